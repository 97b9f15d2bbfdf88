import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppConfig, loadConfig } from '@berth/config';
import { createApp } from '../../apps/store/src/main';
import { createTestDatabase, TestDatabase } from './postgres';

export type DatabaseKind = 'postgres' | 'embedded';

export interface InProcessStore {
  app: NestExpressApplication;
  url: string;
  config: AppConfig;
  db?: TestDatabase;
  close(): Promise<void>;
}

/** The whole app in this process on a free port, on a fresh Postgres database or a fresh embedded one. */
export async function startInProcess(
  kind: DatabaseKind,
  env: Record<string, string> = {},
): Promise<InProcessStore> {
  const dataDir = mkdtempSync(join(tmpdir(), `berth-int-${kind}-`));
  const db = kind === 'postgres' ? await createTestDatabase() : undefined;
  // Suites forge many credentials and sign up many accounts from one address; the limits have their own
  // tests (http-hardening, limits-hardening, abuse).
  const limits = {
    AUTH_FAILURES_PER_CLIENT: '100000',
    AUTH_FAILURES_PER_CREDENTIAL: '100000',
    SIGNUPS_PER_CLIENT: '100000',
    CHECKOUTS_PER_CLIENT: '100000',
    // Sign-ups are usable at once; account-mail tests the confirmation mail and its link.
    SIGNUP_EMAIL_VERIFICATION: 'off',
  };
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    ...limits,
    ...(db ? { DATABASE_URL: db.url } : {}),
    ...env,
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  // PUBLIC_URL is only known once the port is: tests that need absolute URLs use `url`.
  return {
    app,
    url,
    config,
    db,
    async close() {
      await app.close();
      await db?.drop();
    },
  };
}
