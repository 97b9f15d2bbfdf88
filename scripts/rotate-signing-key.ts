// `npm run keys:rotate`: adds a new license signing key and retires the others (they keep verifying:
// the JWKS lists them). With the embedded database, run it while the store is stopped.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@berth/config';
import { SigningKeysService } from '@berth/licensing';
import { AppModule } from '../apps/store/src/app.module';

async function main() {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(loadConfig()), {
    logger: ['error', 'warn'],
  });
  const kid = await app.get(SigningKeysService).rotate();
  await app.close();
  process.stdout.write(`new signing key: ${kid}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
