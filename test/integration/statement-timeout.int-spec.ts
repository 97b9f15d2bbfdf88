import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, isConnectionError } from '@berth/database';
import { PgCluster, startPgCluster } from '../support/pg-cluster';

/**
 * The request pool's client-side statement timeout on a server that stops answering mid-transaction
 * (SIGSTOP). node-postgres gives up on the statement and silently drops the ROLLBACK queued behind it;
 * the connection must not go back to the pool still inside that transaction, or the next borrower's
 * statements (and its COMMIT) would run in it once the server resumes.
 */
jest.setTimeout(60_000);

const STATEMENT_TIMEOUT_MS = 300;

describe('a statement timed out on a frozen server', () => {
  let cluster: PgCluster;
  let url: string;
  let ds: DataSource;

  beforeAll(async () => {
    cluster = await startPgCluster();
    url = await cluster.createDatabase('berth_timeouts');
    ds = new DataSource(
      dataSourceOptions(url, 1, { entities: [], migrations: [] }, false, STATEMENT_TIMEOUT_MS),
    );
    await ds.initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await cluster?.destroy();
  });

  it('closes its connection, so no later borrower runs inside the abandoned transaction', async () => {
    const runner = ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const [{ pid }] = (await runner.query('SELECT pg_backend_pid() AS pid')) as Array<{ pid: number }>;
    await runner.query('CREATE TABLE written_in_abandoned_tx (x int)');

    const thaw = cluster.freeze();
    try {
      await expect(runner.query('SELECT 1')).rejects.toThrow(/timeout|terminated/i);
      await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    } finally {
      thaw();
    }

    // The pool's one connection now: a fresh one, outside any transaction.
    const [next] = (await ds.query(
      'SELECT pg_backend_pid() AS pid, now() = statement_timestamp() AS fresh',
    )) as Array<{
      pid: number;
      fresh: boolean;
    }>;
    expect(next.pid).not.toBe(pid);
    expect(next.fresh).toBe(true);
    await ds.query('CREATE TABLE written_after (x int)');

    // The server ended the abandoned session and rolled its work back.
    const probe = new Client({ connectionString: url });
    await probe.connect();
    try {
      for (let i = 0; i < 50; i++) {
        const { rows } = await probe.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [
          pid,
        ]);
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const gone = await probe.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid]);
      expect(gone.rows[0].n).toBe(0);
      const tables = await probe.query(
        `SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'written_%' ORDER BY 1`,
      );
      expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual(['written_after']);
    } finally {
      await probe.end();
    }
  });

  it('counts a transaction whose connection the server ended while it sat idle as a connection error', async () => {
    // What a fast shutdown does to a request mid-transaction: the next statement fails with no SQLSTATE.
    const runner = ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const [{ pid }] = (await runner.query('SELECT pg_backend_pid() AS pid')) as Array<{ pid: number }>;
    const killer = new Client({ connectionString: url });
    await killer.connect();
    try {
      await killer.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await killer.end();
    }
    await new Promise((r) => setTimeout(r, 200));
    const failure = await runner.query('SELECT 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    await runner.rollbackTransaction().catch(() => undefined);
    await runner.release();
    expect(failure).toBeInstanceOf(Error);
    expect(isConnectionError(failure)).toBe(true);
    const [after] = (await ds.query('SELECT 1 AS one')) as Array<{ one: number }>;
    expect(after.one).toBe(1);
  });
});
