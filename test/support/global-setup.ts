import { Client } from 'pg';
import { POSTGRES_ADMIN_URL } from './postgres';

/** Fails the run at once, with a hint, when the real Postgres the suites need is missing. */
export default async function globalSetup(): Promise<void> {
  const c = new Client({ connectionString: POSTGRES_ADMIN_URL });
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (e) {
    throw new Error(
      `Integration and e2e tests need PostgreSQL at ${POSTGRES_ADMIN_URL}: ${(e as Error).message}. ` +
        'Start it, or set TEST_POSTGRES_URL.',
    );
  } finally {
    await c.end().catch(() => undefined);
  }
}
