import { randomBytes } from 'node:crypto';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { startStore, StoreProcess } from '../support/store-process';

/**
 * What the HTTP edge writes to the log, read from the real process's output: an attack that used to
 * crash a request leaves no stack trace, and an ingress without TRUST_PROXY is called out.
 */
jest.setTimeout(120_000);

const SIGNING_SECRET = randomBytes(32).toString('hex');
const production = () => ({
  NODE_ENV: 'production',
  ACCESS_TOKEN_SECRET: randomBytes(32).toString('hex'),
  LICENSE_SIGNING_SECRET: SIGNING_SECRET,
  ALLOW_LOCAL_PAYMENTS: 'true',
});
const lines = (store: StoreProcess, text: string) => store.output.filter((l) => l.includes(text));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Start-up lines are flushed asynchronously, after the listening line. */
async function logged(store: StoreProcess, text: string): Promise<void> {
  for (let i = 0; i < 100 && lines(store, text).length === 0; i++) await sleep(50);
}

describe('edge log lines', () => {
  let db: TestDatabase;
  const stores: StoreProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('berth_edge_logs');
  });
  afterAll(async () => {
    for (const s of stores) await s.stop();
    await db?.drop();
  });

  it('answers a JSON nesting bomb with 400 json_too_deep and logs no stack trace', async () => {
    const store = await startStore({ DATABASE_URL: db.url, LICENSE_SIGNING_SECRET: SIGNING_SECRET });
    stores.push(store);
    for (const body of [
      `{"email":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
    ]) {
      const res = await fetch(`${store.url}/v1/accounts`, { method: 'POST', body });
      expect([res.status, await res.json()]).toEqual([
        400,
        { error: { code: 'json_too_deep', message: expect.any(String) } },
      ]);
    }
    expect((await fetch(`${store.url}/healthz`)).status).toBe(200);
    await sleep(200); // the log line of the last request
    expect(lines(store, '"stack"')).toEqual([]);
    expect(lines(store, 'unhandled error')).toEqual([]);
  });

  it('warns when TRUST_PROXY is unset: at start in production, and once on the first forwarded request', async () => {
    const store = await startStore({ ...production(), DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
    stores.push(store);
    await logged(store, 'metrics are not served'); // the last start-up warning
    expect(lines(store, 'TRUST_PROXY is not set')).toHaveLength(1);
    await fetch(`${store.url}/v1/catalog`);
    await sleep(200);
    expect(lines(store, 'came through a proxy')).toHaveLength(0);
    const forwarded: Array<Record<string, string>> = [
      { 'x-forwarded-for': '203.0.113.7' },
      { forwarded: 'for=203.0.113.8' },
    ];
    for (const headers of forwarded) {
      await fetch(`${store.url}/v1/catalog`, { headers });
    }
    await logged(store, 'came through a proxy');
    await sleep(200);
    const warned = lines(store, 'came through a proxy');
    expect(warned).toHaveLength(1);
    expect(JSON.parse(warned[0])).toMatchObject({ level: 40 });
    expect(warned[0]).toContain('TRUST_PROXY');
  });

  it('stays quiet when TRUST_PROXY is set, false included', async () => {
    const store = await startStore({
      ...production(),
      DATABASE_URL: db.url,
      TRUST_PROXY: 'false',
      LOG_LEVEL: 'warn',
    });
    stores.push(store);
    await logged(store, 'metrics are not served');
    await fetch(`${store.url}/v1/catalog`, { headers: { 'x-real-ip': '203.0.113.9' } });
    await sleep(500);
    expect(lines(store, 'TRUST_PROXY')).toEqual([]);
  });
});
