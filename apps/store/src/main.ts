import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig, AppConfig } from '@berth/config';
import { AppModule } from './app.module';
import { configureHttp } from './http/configure-http';

export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  configureHttp(app);
  return app;
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const app = await createApp(config);
  const server = app.getHttpServer();
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 300_000;
  // SIGTERM: stop accepting, let in-flight requests finish, close the database, exit 0. A stuck
  // request must not hold the pod forever, so a timer forces the exit.
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return; // a repeated signal must not cut the drain short; the timer bounds it
    stopping = true;
    app.get(Logger).log({ msg: 'shutting down', signal }, 'Bootstrap');
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await app.listen(config.port, config.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const logger = app.get(Logger);
  logger.log(
    {
      msg: 'berth listening',
      port,
      publicUrl: config.publicUrl,
      database: config.database.url ? 'postgres' : 'embedded',
      blobStore: config.blobStore.driver,
      // Counted in the database, so every replica enforces the same totals; hashing is bounded per replica.
      limits: {
        authFailuresPerClient: config.http.authFailuresPerClient,
        authFailuresPerCredential: config.http.authFailuresPerCredential,
        loginMaxFailures: config.auth.loginMaxFailures,
        signupsPerClient: config.http.signupsPerClient,
        checkoutsPerClient: config.http.checkoutsPerClient,
        passwordHashConcurrency: config.auth.hashConcurrency,
      },
    },
    'Bootstrap',
  );
  // One machine-readable line for scripts and tests that start the server on port 0.
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`berth failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
