import { execFile } from 'node:child_process';
import { ClientRequest, IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { createPublisher, Publisher, putListing } from '../support/api';
import { simpleChart } from '../support/charts';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { startStore, StoreProcess } from '../support/store-process';

const execFileP = promisify(execFile);
jest.setTimeout(240_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * WEB_CONCURRENCY=2 on Postgres: one primary, two workers sharing the port through node:cluster. Each
 * worker has its own caches and change-feed listener, so what one commits the other must serve within a
 * second, as between replicas; /metrics sums both; a killed worker is replaced; SIGTERM stops them all.
 *
 * Which worker served a request is read from its request log line (every line carries `pid`), matched by
 * the X-Request-Id the response carries: nothing is added to responses for the test. Each request below
 * opens its own connection, so the primary's round robin hands them to the workers in turn.
 */
describe('several workers (WEB_CONCURRENCY=2)', () => {
  const METRICS_TOKEN = 'cluster-suite-metrics-token-0123456789abcdef';
  let db: TestDatabase;
  let store: StoreProcess;
  let pub: Publisher;

  beforeAll(async () => {
    db = await createTestDatabase('cluster');
    store = await startStore({ DATABASE_URL: db.url, WEB_CONCURRENCY: '2', METRICS_TOKEN }, 120_000);
    pub = await createPublisher(store.url, 'acme', ['charts:read', 'charts:write', 'listings:write']);
  });

  afterAll(async () => {
    await store?.stop();
    await db?.drop();
  });

  /** The primary's children, as `ps` sees them. */
  async function workerPids(): Promise<number[]> {
    const { stdout } = await execFileP('ps', ['-o', 'pid=', '--ppid', String(store.child.pid)]).catch(
      (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }), // ps exits 1 when there are none
    );
    return stdout
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0)
      .sort((a, b) => a - b);
  }

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  interface Answer {
    status: number;
    headers: IncomingHttpHeaders;
    body: string;
  }

  /** A request on a connection of its own (closed after it), its body left to the caller. */
  function open(
    path: string,
    opts: { method?: string; headers?: Record<string, string>; length?: number } = {},
  ): { req: ClientRequest; answer: Promise<Answer> } {
    let req!: ClientRequest;
    const answer = new Promise<Answer>((resolve, reject) => {
      req = httpRequest(
        {
          host: '127.0.0.1',
          port: store.port,
          path,
          method: opts.method ?? 'GET',
          agent: false,
          headers: {
            connection: 'close',
            ...opts.headers,
            ...(opts.length !== undefined ? { 'content-length': String(opts.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', reject);
    });
    return { req, answer };
  }

  /** One request on a connection of its own. */
  function fresh(
    path: string,
    opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<Answer> {
    const { req, answer } = open(path, { ...opts, length: opts.body?.length });
    req.end(opts.body);
    return answer;
  }

  /** The pid that logged each request id (request log lines arrive a moment after the response). */
  async function servedBy(answers: Answer[]): Promise<number[]> {
    const ids = answers.map((a) => String(a.headers['x-request-id']));
    const until = Date.now() + 5000;
    for (;;) {
      const pidById = new Map<string, number>();
      for (const line of store.output) {
        if (!line.startsWith('{') || !line.includes('"req":')) continue;
        const entry = JSON.parse(line) as { pid: number; req?: { id?: string } };
        if (entry.req?.id) pidById.set(entry.req.id, entry.pid);
      }
      const pids = ids.map((id) => pidById.get(id));
      if (pids.every((p) => p !== undefined)) return pids as number[];
      if (Date.now() > until)
        throw new Error(`no request log line for ${ids.filter((id) => !pidById.has(id)).join(', ')}`);
      await sleep(50);
    }
  }

  const catalogRequests = (n: number) => Promise.all(Array.from({ length: n }, () => fresh('/v1/catalog')));

  const scrape = () => fresh('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });

  /** The summed value of one series in an exposition. */
  const sample = (exposition: string, series: string) => {
    const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };
  const CATALOG_OK = 'berth_http_requests_total{method="GET",route="/v1/catalog",status="200"}';

  it('forks two workers that share the port, serve in turn, and announce the store once', async () => {
    const pids = await workerPids();
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(store.child.pid);
    // One start line for the cluster, from the primary, naming its workers; none from the workers at info.
    const starts = store.output.filter((l) => l.includes('Berth is serving on'));
    expect(starts).toHaveLength(1);
    const start = JSON.parse(starts[0]) as {
      msg: string;
      pid: number;
      workers: number;
      workerPids: number[];
    };
    expect(start).toMatchObject({
      msg: `Berth is serving on http://127.0.0.1:${store.port} (2 workers)`,
      pid: store.child.pid,
      workers: 2,
    });
    expect([...start.workerPids].sort((a, b) => a - b)).toEqual(pids);
    expect(store.output.filter((l) => l.includes('"event":"listening"'))).toHaveLength(1);
    expect(store.output.filter((l) => l.includes('"msg":"berth listening"'))).toEqual([]);
    // Migrations ran once, in the primary.
    const migrated = store.output.filter((l) => l.includes('applied migrations'));
    expect(migrated).toHaveLength(1);
    expect((JSON.parse(migrated[0]) as { pid: number }).pid).toBe(store.child.pid);

    const answers = await catalogRequests(20);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const servers = new Set(await servedBy(answers));
    expect([...servers].sort((a, b) => a - b)).toEqual(pids);
  });

  it("shows an upload through one worker in every worker's index.yaml within a second", async () => {
    const upload = async (version: string) =>
      fresh(`/api/acme/charts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pub.apiToken}`, 'content-type': 'application/octet-stream' },
        body: await simpleChart('app', version),
      });
    expect((await upload('1.0.0')).status).toBe(201);
    expect((await putListing(store.url, 'acme', pub.apiToken, 'app')).status).toBe(200);
    const index = () => fresh('/helm/acme/index.yaml');
    const has = (a: Answer, version: string) =>
      a.status === 200 &&
      !!(JSON.parse(a.body) as { entries: Record<string, Array<{ version: string }>> }).entries.app?.some(
        (v) => v.version === version,
      );
    const pids = await workerPids();
    // Both workers have rendered and cached the index before each upload.
    await Promise.all(Array.from({ length: 6 }, index));

    const uploaders = new Set<number>();
    // Which worker takes a new connection is the primary's round-robin over the workers free at that
    // moment, so a busy machine can send several in a row to one: go on until both have taken an upload.
    for (let i = 0; i < 4 || (uploaders.size < pids.length && i < 16); i++) {
      const version = `1.1.${i}`;
      const uploaded = await upload(version);
      const acked = Date.now();
      expect(uploaded.status).toBe(201);
      const samples: Array<{ after: number; answer: Answer }> = [];
      while (Date.now() - acked < 1000) samples.push({ after: Date.now() - acked, answer: await index() });
      const later = await Promise.all(Array.from({ length: 20 }, index));
      const [uploader] = await servedBy([uploaded]);
      uploaders.add(uploader);
      const samplePids = await servedBy(samples.map((s) => s.answer));
      const laterPids = await servedBy(later);
      // Every worker showed it within the second, and never lost it again.
      for (const pid of pids) {
        const mine = samples.filter((_, j) => samplePids[j] === pid);
        const first = mine.findIndex((s) => has(s.answer, version));
        expect({ version, pid, shownWithinASecond: first >= 0 }).toEqual({
          version,
          pid,
          shownWithinASecond: true,
        });
        expect(mine.slice(first).every((s) => has(s.answer, version))).toBe(true);
      }
      // And every answer after that second has it, from both workers.
      expect(later.filter((a) => !has(a, version))).toEqual([]);
      expect(new Set(laterPids)).toEqual(new Set(pids));
    }
    // The uploads went through both workers, so each direction was checked.
    expect(uploaders).toEqual(new Set(pids));
  });

  it('sums both workers on /metrics, behind the same token, in the same format', async () => {
    const refused = await fresh('/metrics');
    expect(refused.status).toBe(401);
    expect((JSON.parse(refused.body) as { error: { code: string } }).error.code).toBe(
      'metrics_token_required',
    );

    const before = await scrape();
    expect(before.status).toBe(200);
    // What one process answers (Express adds the charset): the Prometheus text format, version 0.0.4.
    expect(before.headers['content-type']).toBe('text/plain; charset=utf-8; version=0.0.4');
    const answers = await catalogRequests(30);
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
    const byPid = new Map<number, number>();
    for (const pid of await servedBy(answers)) byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
    expect(byPid.size).toBe(2); // neither worker's own count is 30
    const after = await scrape();
    expect(sample(after.body, CATALOG_OK) - sample(before.body, CATALOG_OK)).toBe(30);
    // Per-process gauges are combined too (summed memory; one Node version).
    expect(sample(after.body, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after.body.match(/^nodejs_version_info\{/gm)).toHaveLength(1);
  });

  it('replaces a worker that is killed, and keeps serving and counting', async () => {
    const before = await workerPids();
    const [victim, survivor] = before;
    process.kill(victim, 'SIGKILL');
    let now: number[] = [];
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      now = await workerPids();
      if (now.length === 2 && !now.includes(victim)) break;
      await sleep(100);
    }
    expect(now).toHaveLength(2);
    expect(now).toContain(survivor);
    const replacement = now.find((p) => p !== survivor) as number;
    expect(replacement).not.toBe(victim);
    // The primary says what happened, and when the new worker serves.
    const restart = store.output.find((l) => l.includes('worker exited unexpectedly'));
    expect(JSON.parse(restart as string)).toMatchObject({
      pid: victim,
      signal: 'SIGKILL',
      level: 40,
      restartInMs: 100,
    });
    while (
      !store.output.some((l) => l.includes('worker serving again') && l.includes(`"pid":${replacement}`))
    ) {
      if (Date.now() > until)
        throw new Error(`the replacement worker never served:\n${store.output.join('\n')}`);
      await sleep(100);
    }
    const scraped = await scrape();
    const answers = await catalogRequests(20);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(await servedBy(answers))).toEqual(new Set(now));
    // The victim's counts died with it; from here on, both live workers are summed again.
    expect(sample((await scrape()).body, CATALOG_OK) - sample(scraped.body, CATALOG_OK)).toBe(20);
  });

  it('finishes the uploads in flight on every worker on SIGTERM, exits 0 and closes the port', async () => {
    const pids = await workerPids();
    expect(pids).toHaveLength(2);
    // Two connections, so one upload on each worker, each with part of its body sent.
    const charts = await Promise.all(['3.0.0', '3.0.1'].map((v) => simpleChart('app', v)));
    const uploads = charts.map((chart) => {
      const { req, answer } = open('/api/acme/charts', {
        method: 'POST',
        headers: { authorization: `Bearer ${pub.apiToken}`, 'content-type': 'application/octet-stream' },
        length: chart.length,
      });
      req.write(chart.subarray(0, 100));
      return { answer, rest: () => req.end(chart.subarray(100)) };
    });
    await sleep(300);
    store.child.kill('SIGTERM');
    // The rest of each body a moment later: both workers must wait for it.
    await sleep(500);
    for (const u of uploads) u.rest();
    const answers = await Promise.all(uploads.map((u) => u.answer));
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [201, '{"saved":true}'],
      [201, '{"saved":true}'],
    ]);
    expect(await store.exited).toBe(0);
    expect(new Set(await servedBy(answers))).toEqual(new Set(pids));
    expect(pids.filter(alive)).toEqual([]);
    // Each worker drained on its own (its shutdown hooks), told by the primary.
    const drained = () =>
      pids.filter((pid) =>
        store.output.some((l) => l.includes('"msg":"shutting down"') && l.includes(`"pid":${pid},`)),
      );
    for (let i = 0; i < 20 && drained().length < pids.length; i++) await sleep(100); // the pipe may lag the exit
    expect(drained()).toEqual(pids);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(store.port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve('connected')));
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('refuses several workers on the embedded database, before starting anything', async () => {
    await expect(startStore({ WEB_CONCURRENCY: '2', DATABASE_URL: undefined })).rejects.toThrow(
      /store exited with 1 before listening:[\s\S]*WEB_CONCURRENCY=2 needs DATABASE_URL: the embedded database \(PGlite\) runs inside one process/,
    );
  });
});
