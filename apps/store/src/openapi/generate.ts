// Writes openapi/openapi.yaml from the controllers and DTOs, deterministically (sorted keys), and with
// --check fails when the committed file differs: the API description can never drift from the code.
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '@berth/config';
import YAML from 'yaml';
import { AppModule } from '../app.module';

const OUT = join(__dirname, '../../../../openapi/openapi.yaml');

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, sortDeep((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export async function buildOpenApiYaml(): Promise<string> {
  // Preview mode builds the module graph without instantiating providers: no database, no files.
  const config = { ...loadConfig({ DATA_DIR: '/nonexistent', ACCESS_TOKEN_SECRET: 'x'.repeat(32) }) };
  const app = await NestFactory.create(AppModule.forRoot(config), { preview: true, logger: false, abortOnError: false });
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Berth')
      .setDescription(
        'A self-hostable app store for Helm charts. /v1 errors: {"error":{"code","message"}}; ' +
          '/api (ChartMuseum-compatible) errors: {"error": "sentence", "code": "stable_code"}. ' +
          'Any route: a request carrying credentials after too many refused ones (per client or per credential) gets ' +
          '429 too_many_auth_failures with Retry-After; a body over its route\'s limit gets 413 payload_too_large ' +
          '(upload_too_large on uploads); a database or blob store outage gets 503 service_unavailable / ' +
          'blob_store_unavailable with Retry-After. A /v1 JSON body nested deeper than 32 levels gets 400 ' +
          'json_too_deep before authentication or validation; a raw-body route (webhook, upload) whose body was ' +
          'already consumed under another spelling of its path gets 400 body_already_read.',
      )
      .setVersion('1')
      .addBearerAuth()
      .addBasicAuth()
      .build(),
  );
  await app.close();
  return YAML.stringify(sortDeep(doc), { lineWidth: 0, sortMapEntries: true });
}

async function main() {
  const yaml = await buildOpenApiYaml();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(OUT, 'utf8');
    } catch {
      /* missing counts as drift */
    }
    if (current !== yaml) {
      process.stderr.write('openapi/openapi.yaml is out of date: run `npm run openapi` and commit the result.\n');
      process.exit(1);
    }
    process.stdout.write('openapi/openapi.yaml is up to date\n');
    return;
  }
  writeFileSync(OUT, yaml);
  process.stdout.write(`wrote ${OUT}\n`);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
