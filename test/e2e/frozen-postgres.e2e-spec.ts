import { createPublisher, Publisher, uploadChart } from '../support/api';
import { simpleChart } from '../support/charts';
import { PgCluster, startPgCluster } from '../support/pg-cluster';
import { startStore, StoreProcess } from '../support/store-process';

/**
 * A Postgres server that stops answering without closing anything (SIGSTOP: connections stay open,
 * new ones are accepted by the kernel and never greeted). Every request that needs it must say
 * "retry later" (503 service_unavailable with Retry-After) within a few seconds instead of hanging
 * until the 300 s request timeout, and the store must serve again as soon as the server resumes.
 */
jest.setTimeout(120_000);

const STATEMENT_TIMEOUT_MS = 1500;
/** Statement bound + client grace, or the pool's 5 s wait for a connection, plus slack for a busy machine. */
const ANSWER_BOUND_MS = 9_000;

interface Answer {
  path: string;
  status: number | 'no answer';
  code?: string;
  retryAfter: string | null;
  ms: number;
}

async function call(url: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const started = Date.now();
  try {
    const res = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let code: string | undefined;
    try {
      const body = JSON.parse(text) as { error?: { code?: string } | string; code?: string };
      code = typeof body.error === 'object' ? body.error.code : body.code;
    } catch {
      code = undefined;
    }
    return {
      path,
      status: res.status,
      code,
      retryAfter: res.headers.get('retry-after'),
      ms: Date.now() - started,
    };
  } catch {
    return { path, status: 'no answer', retryAfter: null, ms: Date.now() - started };
  }
}

describe('Postgres frozen (SIGSTOP)', () => {
  let cluster: PgCluster;
  let store: StoreProcess;
  let pub: Publisher;

  beforeAll(async () => {
    cluster = await startPgCluster();
    store = await startStore({
      DATABASE_URL: await cluster.createDatabase('berth_frozen'),
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      LOG_LEVEL: 'warn',
    });
    pub = await createPublisher(store.url);
    expect(
      (await uploadChart(store.url, pub.slug, pub.apiToken, await simpleChart('warm', '1.0.0'))).status,
    ).toBe(201);
  });
  afterAll(async () => {
    await store?.stop('SIGKILL');
    await cluster?.destroy();
  });

  it('answers 503 with Retry-After within a few seconds, and serves again once Postgres resumes', async () => {
    const login = () =>
      call(store.url, '/v1/sessions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: pub.email, password: pub.password }),
      });
    const thaw = cluster.freeze();
    let frozen: Answer[];
    try {
      // More requests than the pool has connections: some wait for a connection, some for a statement.
      frozen = await Promise.all([
        ...Array.from({ length: 14 }, (_, i) => call(store.url, `/v1/catalog?q=frozen${i}`)),
        login(),
        call(store.url, `/api/${pub.slug}/charts`, { headers: { authorization: `Bearer ${pub.apiToken}` } }),
        (async () => {
          const a = await uploadChart(
            store.url,
            pub.slug,
            pub.apiToken,
            await simpleChart('frozen', '1.0.0'),
          );
          const body = (await a.json()) as { code?: string };
          return {
            path: 'upload',
            status: a.status,
            code: body.code,
            retryAfter: a.headers.get('retry-after'),
            ms: 0,
          };
        })(),
      ]);
      const ready = await call(store.url, '/readyz');
      expect(ready.status).toBe(503);
    } finally {
      thaw();
    }
    process.stdout.write(`[frozen-postgres] answer times (ms): ${frozen.map((a) => a.ms).join(', ')}\n`);
    for (const a of frozen) {
      expect({ path: a.path, status: a.status, code: a.code, retryAfter: a.retryAfter }).toEqual({
        path: a.path,
        status: 503,
        code: 'service_unavailable',
        retryAfter: expect.stringMatching(/^\d+$/),
      });
      expect(a.ms).toBeLessThan(ANSWER_BOUND_MS);
    }

    const resumed = Date.now();
    for (;;) {
      const [ready, catalog] = await Promise.all([
        call(store.url, '/readyz'),
        call(store.url, '/v1/catalog'),
      ]);
      if (ready.status === 200 && catalog.status === 200) break;
      if (Date.now() - resumed > 30_000)
        throw new Error(`not serving 30 s after SIGCONT: ${ready.status} ${catalog.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await login()).status).toBe(200);
    const again = await uploadChart(store.url, pub.slug, pub.apiToken, await simpleChart('thawed', '1.0.0'));
    expect(again.status).toBe(201);
  });
});
