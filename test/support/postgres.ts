import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The machine's Postgres server; CI and developers point TEST_POSTGRES_URL elsewhere if needed. */
export const POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, uniquely named database for one suite, dropped afterwards. */
export async function createTestDatabase(label = 'berth'): Promise<TestDatabase> {
  const name = `${label}_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`.replace(
    /[^a-z0-9_]/g,
    '_',
  );
  const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(
      `Postgres is not reachable at ${POSTGRES_ADMIN_URL} (${(e as Error).message}). ` +
        "Start the machine's server or set TEST_POSTGRES_URL to an admin connection URL.",
    );
  }
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
