import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { createPublisher, Publisher, putListing } from '../support/api';
import { simpleChart, tarGz } from '../support/charts';
import { FaultableMinio, s3StoreEnv, startFaultableMinio } from '../support/minio';
import { PgCluster, startPgCluster } from '../support/pg-cluster';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { snapshotBuild, startStore, StoreProcess } from '../support/store-process';
import {
  checkoutCompletedEvent,
  signStripe,
  startStripeMock,
  STRIPE_TEST_KEY,
  STRIPE_WEBHOOK_SECRET,
  StripeMock,
} from '../support/stripe';

/**
 * Real faults in real processes: the PostgreSQL server stopped under load, the S3 server killed or
 * frozen, the store SIGKILLed in the middle of an upload. Each test proves that nothing a client was
 * told is stored got lost, that nothing a client was told failed became visible, and that the store
 * says "retry later" (503, a stable code, Retry-After) while a dependency is gone, instead of a 500
 * or a hang.
 *
 * Timings printed with `[faults]` are measurements for the record, not assertions (beyond generous
 * upper bounds that tell a bounded failure from a hang).
 */
jest.setTimeout(150_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A client-side bound on every request: no answer within it is a hang, and fails the test. */
const REQUEST_TIMEOUT_MS = 12_000;
/** The minimum the config accepts (ORPHAN_BLOB_GRACE_SECONDS >= 60); the sweep interval follows it. */
const GRACE_SECONDS = 60;
/** How long a request may take against a frozen (SIGSTOPped) S3 peer before it counts as a hang. */
const HUNG_PEER_BOUND_MS = 30_000;

const report: Record<string, unknown> = {};
function note(key: string, value: unknown): void {
  report[key] = value;
  process.stdout.write(`[faults] ${key}: ${JSON.stringify(value)}\n`);
}

/** Everything started by this file, undone in reverse order in the last afterAll, failures or not. */
const cleanups: Array<() => Promise<unknown>> = [];
/** This file restarts stores; it runs one private copy of the build so a concurrent rebuild cannot pull dist/ away. */
let main: string;
beforeAll(async () => {
  const build = await snapshotBuild();
  cleanups.push(async () => build.remove());
  main = build.main;
});
const start = (env: Record<string, string | undefined>) => startStore(env, 60_000, main);

/** Registers the undo of whatever `started` resolves to as soon as it resolves (even if a sibling start fails). */
async function tracked<T>(started: Promise<T>, undo: (t: T) => Promise<unknown>): Promise<T> {
  const t = await started;
  cleanups.push(() => undo(t));
  return t;
}

/** A temporary folder removed after the suite. */
function privateDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

afterAll(async () => {
  for (const undo of cleanups.reverse()) {
    await undo().catch((e) => process.stderr.write(`[faults] cleanup failed: ${(e as Error).message}\n`));
  }
});

interface Answer {
  status: number;
  ms: number;
  headers: Headers;
  text: string;
  body: unknown;
}

/** fetch with a hard timeout: a hang becomes a thrown error that names the request. */
async function call(url: string, init: RequestInit = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const buf = Buffer.from(await res.arrayBuffer());
  const text = buf.toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, ms: Date.now() - started, headers: res.headers, text, body };
}

async function bytesOf(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** The stable code of an error body: Berth's `{error: {code}}` or the ChartMuseum-style `{error, code}`. */
function codeOf(body: unknown): string | undefined {
  const b = body as { code?: string; error?: { code?: string } | string } | null;
  if (!b || typeof b !== 'object') return undefined;
  if (typeof b.error === 'object' && b.error) return b.error.code;
  return b.code;
}

const upload = (store: StoreProcess, pub: Publisher, archive: Buffer, timeoutMs = REQUEST_TIMEOUT_MS) =>
  call(
    `${store.url}/api/${pub.slug}/charts`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${pub.apiToken}`, 'content-type': 'application/octet-stream' },
      body: archive,
    },
    timeoutMs,
  );

/** Versions the publisher API lists for a chart (drafts included); [] when the chart has none. */
async function listedVersions(store: StoreProcess, pub: Publisher, chart: string): Promise<string[]> {
  const r = await call(`${store.url}/api/${pub.slug}/charts/${chart}`, {
    headers: { authorization: `Bearer ${pub.apiToken}` },
  });
  if (r.status === 404) return [];
  expect(r.status).toBe(200);
  return (r.body as Array<{ version: string }>).map((e) => e.version).sort();
}

/** The anonymous Helm index: version → digest for one chart. */
async function indexed(store: StoreProcess, slug: string, chart: string): Promise<Map<string, string>> {
  const r = await call(`${store.url}/helm/${slug}/index.yaml`);
  expect(r.status).toBe(200);
  const entries =
    (r.body as { entries: Record<string, Array<{ version: string; digest: string }>> }).entries[chart] ?? [];
  return new Map(entries.map((e) => [e.version, e.digest]));
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function expectAlive(store: StoreProcess): void {
  expect({ exitCode: store.child.exitCode, signal: store.child.signalCode }).toEqual({
    exitCode: null,
    signal: null,
  });
}

/** A 503 the way a client can act on it: a stable code and a Retry-After in seconds. */
function expectRetryLater(a: Answer, code: string): void {
  expect({ status: a.status, code: codeOf(a.body), retryAfter: a.headers.get('retry-after') }).toEqual({
    status: 503,
    code,
    retryAfter: expect.stringMatching(/^[1-9]\d*$/),
  });
}

async function dbQuery<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------------
// 3. SIGKILL during an upload (fs blob store). Runs first: its orphan blob needs the sweeper's grace
//    period (60 s at least) to pass, which the other tests then fill.
// ---------------------------------------------------------------------------------------------------

interface KillState {
  db: TestDatabase;
  dataDir: string;
  env: Record<string, string | undefined>;
  store: StoreProcess;
  pub: Publisher;
  publisherId: string;
  /** Absolute path of the blob the killed upload wrote, and when the store that may sweep it started. */
  orphan?: { path: string; writtenAt: number; sweeperStartedAt: number };
  live: Map<string, Buffer>;
}
let kill: KillState | undefined;

describe('SIGKILL of the store during an upload (fs blob store, same DATA_DIR and database after restart)', () => {
  beforeAll(async () => {
    const db = await createTestDatabase('berth_faults_kill');
    cleanups.push(() => db.drop());
    const dataDir = privateDir('berth-faults-kill-');
    const env = {
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      BLOB_STORE: 'fs',
      ORPHAN_BLOB_GRACE_SECONDS: String(GRACE_SECONDS),
      STRIPE_SECRET_KEY: undefined,
      STRIPE_WEBHOOK_SECRET: undefined,
      STRIPE_API_URL: undefined,
    };
    const store = await start(env);
    cleanups.push(() => kill!.store.stop('SIGKILL'));
    const pub = await createPublisher(store.url);
    const [{ id: publisherId }] = await dbQuery<{ id: string }>(
      db.url,
      'SELECT id FROM publisher WHERE slug = $1',
      [pub.slug],
    );
    kill = { db, dataDir, env, store, pub, publisherId, live: new Map() };
    const first = await simpleChart('crashy', '0.1.0');
    expect((await upload(store, pub, first)).status).toBe(201);
    kill.live.set('0.1.0', first);
    expect((await putListing(store.url, pub.slug, pub.apiToken, 'crashy')).status).toBe(200);
  });

  const blobsDir = () => join(kill!.dataDir, 'blobs');

  /** The version is nowhere: not in the publisher API, the index, the archive URL or the table. */
  async function expectInvisible(version: string): Promise<void> {
    const { store, pub, db } = kill!;
    expect(await listedVersions(store, pub, 'crashy')).not.toContain(version);
    expect(
      (
        await call(`${store.url}/api/${pub.slug}/charts/crashy/${version}`, {
          headers: { authorization: `Bearer ${pub.apiToken}` },
        })
      ).status,
    ).toBe(404);
    expect((await indexed(store, pub.slug, 'crashy')).has(version)).toBe(false);
    expect((await call(`${store.url}/helm/${pub.slug}/charts/crashy-${version}.tgz`)).status).toBe(404);
    const rows = await dbQuery(db.url, 'SELECT 1 FROM chart_version WHERE version = $1', [version]);
    expect(rows).toHaveLength(0);
  }

  /** Re-uploading the version works (201, not 409) and serves exactly the bytes sent. */
  async function expectReuploadable(version: string, archive: Buffer): Promise<void> {
    const { store, pub } = kill!;
    const again = await upload(store, pub, archive);
    expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: { saved: true } });
    kill!.live.set(version, archive);
    const served = await bytesOf(`${store.url}/helm/${pub.slug}/charts/crashy-${version}.tgz`);
    expect(served.status).toBe(200);
    expect(sha256(served.bytes)).toBe(sha256(archive));
    expect((await indexed(store, pub.slug, 'crashy')).get(version)).toBe(sha256(archive));
  }

  it('killed mid-body: nothing is stored; after a restart the version is nowhere and re-uploads with 201', async () => {
    const { pub } = kill!;
    // A chart with an incompressible README, so the body is large enough to stop half way.
    const noise = Buffer.from(
      Array.from({ length: 40_000 }, () => Math.random().toString(36).slice(2, 10)).join(''),
    );
    const archive = await tarGz([
      {
        name: 'crashy/Chart.yaml',
        content: 'apiVersion: v2\nname: crashy\nversion: 0.2.0\ndescription: killed mid-body\n',
      },
      { name: 'crashy/values.yaml', content: 'a: 1\n' },
      { name: 'crashy/README.md', content: noise },
    ]);
    expect(archive.length).toBeGreaterThan(150_000);
    const before = filesUnder(blobsDir());

    // Headers and the first 64 KiB, then nothing: the store sits in the middle of reading the body.
    const store = kill!.store;
    const answered = new Promise<string>((resolve) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: store.port,
          method: 'POST',
          path: `/api/${pub.slug}/charts`,
          headers: {
            authorization: `Bearer ${pub.apiToken}`,
            'content-type': 'application/octet-stream',
            'content-length': archive.length,
          },
        },
        (res) => resolve(`status ${res.statusCode}`),
      );
      req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      req.write(archive.subarray(0, 64 * 1024));
    });
    await sleep(700);
    await store.stop('SIGKILL');
    // The client never hears "saved".
    expect(await answered).toMatch(/^error (ECONNRESET|EPIPE|socket hang up)/);
    expect(filesUnder(blobsDir())).toEqual(before);

    kill!.store = await start(kill!.env);
    await expectInvisible('0.2.0');
    await expectReuploadable('0.2.0', archive);
  });

  it('killed after the blob is written but before the version row commits: after a restart the version is nowhere, re-upload is 201, the blob is an orphan', async () => {
    const { db, pub, publisherId } = kill!;
    const archive = await simpleChart('crashy', '0.3.0');
    const before = new Set(filesUnder(blobsDir()));
    // Deterministic window: the upload locks its chart row (SELECT … FOR UPDATE) in the transaction that
    // inserts the version, after the blob write. Holding that row lock here parks it exactly there.
    const locker = new Client({ connectionString: db.url });
    await locker.connect();
    cleanups.push(() => locker.end().catch(() => undefined));
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM chart WHERE publisher_id = $1 AND name = $2 FOR UPDATE', [
      publisherId,
      'crashy',
    ]);

    const store = kill!.store;
    const pending = upload(store, pub, archive).then(
      (a) => `status ${a.status}`,
      (e: Error) => `error ${e.message}`,
    );
    const written = await waitFor(
      'the blob of the parked upload',
      async () =>
        filesUnder(blobsDir()).find(
          (f) => !before.has(f) && f.startsWith(`charts/${publisherId}/`) && f.endsWith('.tgz'),
        ),
      15_000,
    );
    await waitFor(
      'the upload to wait for the chart row lock',
      async () =>
        (
          await locker.query(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
          )
        ).rowCount! > 0,
      10_000,
    );
    const orphanPath = join(blobsDir(), written);
    const writtenAt = statSync(orphanPath).mtimeMs;
    await store.stop('SIGKILL');
    await locker.query('ROLLBACK');
    await locker.end();
    expect(await pending).toMatch(/^error /);
    expect(existsSync(orphanPath)).toBe(true);

    kill!.store = await start(kill!.env);
    kill!.orphan = { path: orphanPath, writtenAt, sweeperStartedAt: Date.now() };
    await expectInvisible('0.3.0');
    await expectReuploadable('0.3.0', archive);
    // The re-upload wrote a new blob under a new key; the orphan waits for the sweeper's grace period.
    expect(existsSync(orphanPath)).toBe(true);
    note('kill.orphanBlob', {
      key: written,
      note: `sweeper grace ${GRACE_SECONDS}s, sweep interval = min(grace, 15 min)`,
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// 1. PostgreSQL (a private cluster) stopped with `pg_ctl stop -m immediate` under uploads and webhooks.
// ---------------------------------------------------------------------------------------------------

interface Rec {
  kind: 'upload' | 'webhook';
  key: string;
  start: number;
  end: number;
  status: number | 'hang' | 'network';
  code?: string;
  retryAfter?: string | null;
  outcome?: string;
  error?: string;
}

describe('PostgreSQL stopped mid-load (a private cluster: pg_ctl stop, then start; uploads and signed Stripe webhooks running)', () => {
  let cluster: PgCluster;
  let stripe: StripeMock;
  let store: StoreProcess;
  let pub: Publisher;
  const ORDERS_PER_OUTAGE = 36;
  type Order = { orderId: string; sessionId: string; payload: string; eventId: string };

  beforeAll(async () => {
    [cluster, stripe] = await Promise.all([
      tracked(startPgCluster(), (c) => c.destroy()),
      tracked(startStripeMock(), (m) => m.stop()),
    ]);
    store = await start({
      DATA_DIR: privateDir('berth-faults-pg-'),
      DATABASE_URL: cluster.url,
      STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
      STRIPE_WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
      LICENSE_STATUS_CACHE_SECONDS: '0',
    });
    cleanups.push(() => store.stop('SIGKILL'));
    pub = await createPublisher(store.url);
    expect((await upload(store, pub, await simpleChart('loadchart', '0.0.1'))).status).toBe(201);
    expect((await putListing(store.url, pub.slug, pub.apiToken, 'loadchart')).status).toBe(200);
    expect((await upload(store, pub, await simpleChart('paidchart', '1.0.0'))).status).toBe(201);
    const listed = await putListing(store.url, pub.slug, pub.apiToken, 'paidchart', {
      price: { amount: 4900, currency: 'usd' },
      updatePolicy: { kind: 'all' },
      published: true,
    });
    expect(listed.status).toBe(200);
  });

  /** Pending Stripe checkouts, each with the signed completion event Stripe would post for it. */
  async function createOrders(n: number, tag: string): Promise<Order[]> {
    const orders: Order[] = [];
    for (let i = 0; i < n; i++) {
      const r = await call(`${store.url}/v1/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          publisher: pub.slug,
          chart: 'paidchart',
          email: `buyer-${tag}-${i}@faults.test`,
        }),
      });
      expect(r.status).toBe(201);
      const { orderId, sessionId } = r.body as { orderId: string; sessionId: string };
      const eventId = `evt_fault_${tag}_${i}_${Date.now().toString(36)}`;
      const payload = checkoutCompletedEvent({ orderId, sessionId }, {}, eventId);
      orders.push({ orderId, sessionId, payload, eventId });
    }
    return orders;
  }

  const deliver = (payload: string) =>
    call(`${store.url}/v1/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(payload) },
      body: payload,
    });

  async function record(
    kind: Rec['kind'],
    key: string,
    recs: Rec[],
    send: () => Promise<Answer>,
  ): Promise<Rec> {
    const start = Date.now();
    let rec: Rec;
    try {
      const a = await send();
      rec = {
        kind,
        key,
        start,
        end: Date.now(),
        status: a.status,
        code: codeOf(a.body),
        retryAfter: a.headers.get('retry-after'),
        outcome: (a.body as { outcome?: string })?.outcome,
      };
    } catch (e) {
      const err = e as Error;
      rec = {
        kind,
        key,
        start,
        end: Date.now(),
        status: err.name === 'TimeoutError' ? 'hang' : 'network',
        error: err.message,
      };
    }
    recs.push(rec);
    return rec;
  }

  it.each([
    ['immediate', 'postmaster and backends killed at once (crash recovery on start)'],
    ['fast', 'backends terminated with 57P01, in-flight transactions rolled back'],
  ] as const)(
    'pg_ctl stop -m %s (%s): 503 + Retry-After, never 500 or a hang; recovers without a restart; nothing lost',
    async (mode, _what) => {
      const tag = mode;
      const orders = await createOrders(ORDERS_PER_OUTAGE, tag);
      const major = mode === 'immediate' ? 1 : 2;
      const logFrom = store.output.length;
      const recs: Rec[] = [];
      const archives = new Map<string, Buffer>();
      let running = true;
      let next = 0;
      const uploader = async () => {
        while (running) {
          const version = `${major}.0.${next++}`;
          const archive = await simpleChart('loadchart', version);
          archives.set(version, archive);
          await record('upload', version, recs, () => upload(store, pub, archive));
          await sleep(100);
        }
      };
      let nextOrder = 0;
      const webhooker = async () => {
        while (running && nextOrder < orders.length) {
          const o = orders[nextOrder++];
          await record('webhook', o.orderId, recs, () => deliver(o.payload));
          await sleep(200);
        }
      };
      const ok = (kind: Rec['kind'], after = 0) =>
        recs.filter((r) => r.kind === kind && r.start >= after && (r.status === 201 || r.status === 200))
          .length;
      const failedDuring = (kind: Rec['kind'], from: number) =>
        recs.filter((r) => r.kind === kind && r.start >= from && r.status === 503).length;

      const workers = [uploader(), uploader(), webhooker()];
      try {
        await waitFor('load before the outage', async () => ok('upload') >= 4 && ok('webhook') >= 4, 30_000);

        // --- the fault -------------------------------------------------------------------------------
        const stopAt = Date.now();
        await cluster.stop(mode);
        const stoppedAt = Date.now();
        note(`pg.${tag}.stopMs`, stoppedAt - stopAt);
        const healthz = await call(`${store.url}/healthz`);
        expect(healthz.status).toBe(200); // alive: an orchestrator must not restart it for this
        const ready = await call(`${store.url}/readyz`);
        expect({ status: ready.status, body: ready.body }).toEqual({
          status: 503,
          body: { status: 'unavailable', checks: { database: 'down', blobStore: 'up' } },
        });
        note(`pg.${tag}.readyzDownMs`, ready.ms);
        await waitFor(
          '503s for uploads and webhooks during the outage',
          async () =>
            Date.now() - stoppedAt > 3000 &&
            failedDuring('upload', stoppedAt) >= 3 &&
            failedDuring('webhook', stoppedAt) >= 3,
          30_000,
        );
        expectAlive(store);

        // --- the repair ------------------------------------------------------------------------------
        const startAt = Date.now();
        await cluster.start();
        const startedAt = Date.now();
        note(`pg.${tag}.outageMs`, startAt - stoppedAt);
        note(`pg.${tag}.startMs`, startedAt - startAt);
        await waitFor(
          'readyz 200',
          async () => (await call(`${store.url}/readyz`)).status === 200,
          30_000,
          50,
        );
        note(`pg.${tag}.readyAfterStartMs`, Date.now() - startedAt);
        await waitFor(
          'uploads and webhooks succeeding again',
          async () =>
            ok('upload', startedAt) >= 4 && (ok('webhook', startedAt) >= 2 || nextOrder >= orders.length),
          30_000,
        );
        const firstOk = recs
          .filter((r) => r.start >= startedAt && (r.status === 201 || r.status === 200))
          .sort((a, b) => a.end - b.end)[0];
        note(`pg.${tag}.firstSuccessAfterStartMs`, firstOk.end - startedAt);
        // The LISTEN connection of the cross-replica change feed (libs/database change-feed.ts) comes back
        // on its own too (it retries with a backoff of at most 5 s).
        const lostAt = store.output.findIndex(
          (l, i) => i >= logFrom && l.includes('change listener disconnected'),
        );
        if (lostAt >= 0) {
          await waitFor(
            'the change listener to reconnect',
            async () =>
              store.output.slice(lostAt).some((l) => l.includes('listening for changes from other replicas')),
            15_000,
            50,
          );
          note(`pg.${tag}.changeListenerBackAfterStartMs`, Date.now() - startedAt);
        }

        // --- what the clients saw --------------------------------------------------------------------
        running = false;
        await Promise.all(workers);
        expectAlive(store);
        const summary = (kind: Rec['kind']) => {
          const rs = recs.filter((r) => r.kind === kind);
          const by: Record<string, number> = {};
          for (const r of rs) by[String(r.status)] = (by[String(r.status)] ?? 0) + 1;
          const fails = rs.filter((r) => r.status === 503).map((r) => r.end - r.start);
          return {
            total: rs.length,
            byStatus: by,
            slowest503Ms: Math.max(0, ...fails),
            median503Ms: fails.sort((a, b) => a - b)[Math.floor(fails.length / 2)],
          };
        };
        note(`pg.${tag}.uploads`, summary('upload'));
        note(`pg.${tag}.webhooks`, summary('webhook'));
        // Only success or "retry later": no 500, no other error, no hang, no dropped connection.
        const unexpected = recs.filter((r) =>
          r.kind === 'upload'
            ? ![201, 503].includes(r.status as number)
            : ![200, 503].includes(r.status as number),
        );
        expect(unexpected).toEqual([]);
        const refusals = recs.filter((r) => r.status === 503);
        expect(new Set(refusals.map((r) => `${r.code} retry-after=${r.retryAfter}`))).toEqual(
          new Set(['service_unavailable retry-after=5']),
        );
        // Everything that started and ended while the server was down was refused, and some of each kind did.
        const inOutage = recs.filter((r) => r.start >= stoppedAt && r.end <= startAt);
        expect(inOutage.filter((r) => r.status !== 503)).toEqual([]);
        expect(inOutage.filter((r) => r.kind === 'upload').length).toBeGreaterThanOrEqual(3);
        expect(inOutage.filter((r) => r.kind === 'webhook').length).toBeGreaterThanOrEqual(3);
        for (const r of recs) expect(r.end - r.start).toBeLessThan(REQUEST_TIMEOUT_MS);

        // --- nothing lost: uploads ---------------------------------------------------------------------
        const index = await indexed(store, pub.slug, 'loadchart');
        const listed = new Set(await listedVersions(store, pub, 'loadchart'));
        const saved = recs.filter((r) => r.kind === 'upload' && r.status === 201).map((r) => r.key);
        for (const version of saved) {
          const archive = archives.get(version)!;
          expect({ version, indexed: index.get(version), listed: listed.has(version) }).toEqual({
            version,
            indexed: sha256(archive),
            listed: true,
          });
          const served = await bytesOf(`${store.url}/helm/${pub.slug}/charts/loadchart-${version}.tgz`);
          expect({ version, status: served.status, sha: sha256(served.bytes) }).toEqual({
            version,
            status: 200,
            sha: sha256(archive),
          });
        }
        // A refused upload may still have committed (the COMMIT reached the server, its answer did not):
        // then the retry is 409 and the stored bytes are exactly the ones sent. Otherwise the retry stores it.
        const refusedUploads = recs.filter((r) => r.kind === 'upload' && r.status === 503).map((r) => r.key);
        let committedDespite503 = 0;
        for (const version of refusedUploads) {
          const archive = archives.get(version)!;
          const retry = await upload(store, pub, archive);
          expect({ version, status: [201, 409].includes(retry.status) }).toEqual({ version, status: true });
          if (retry.status === 409) committedDespite503++;
          const served = await bytesOf(`${store.url}/helm/${pub.slug}/charts/loadchart-${version}.tgz`);
          expect({ version, status: served.status, sha: sha256(served.bytes) }).toEqual({
            version,
            status: 200,
            sha: sha256(archive),
          });
        }
        note(`pg.${tag}.refusedUploadsThatHadCommitted`, committedDespite503);

        // --- nothing lost: webhooks --------------------------------------------------------------------
        const licenses = async () => {
          const r = await call(`${store.url}/v1/publishers/${pub.slug}/licenses?limit=200`, {
            headers: { authorization: `Bearer ${pub.accessToken}` },
          });
          expect(r.status).toBe(200);
          return (r.body as { licenses: Array<{ id: string; orderId: string | null; status: string }> })
            .licenses;
        };
        const perOrder = (ls: Array<{ orderId: string | null }>, orderId: string) =>
          ls.filter((l) => l.orderId === orderId).length;
        const acknowledged = recs.filter((r) => r.kind === 'webhook' && r.status === 200);
        expect(acknowledged.every((r) => r.outcome === 'fulfilled')).toBe(true);
        let ls = await licenses();
        for (const r of acknowledged)
          expect({ order: r.key, licenses: perOrder(ls, r.key) }).toEqual({ order: r.key, licenses: 1 });
        // Stripe retries what got a 5xx: each is processed once now (or was, if only the answer was lost).
        const failed = recs.filter((r) => r.kind === 'webhook' && r.status === 503);
        const redeliveries: Record<string, number> = {};
        for (const r of failed) {
          const o = orders.find((x) => x.orderId === r.key)!;
          const again = await deliver(o.payload);
          expect(again.status).toBe(200);
          const outcome = (again.body as { outcome: string }).outcome;
          redeliveries[outcome] = (redeliveries[outcome] ?? 0) + 1;
          expect(['fulfilled', 'duplicate']).toContain(outcome);
        }
        note(`pg.${tag}.redeliveredWebhookOutcomes`, redeliveries);
        // Stripe may also deliver everything once more: all duplicates now, and still one license per order.
        const delivered = orders.slice(0, nextOrder);
        for (const o of delivered) {
          const again = await deliver(o.payload);
          expect({ order: o.orderId, status: again.status, body: again.body }).toEqual({
            order: o.orderId,
            status: 200,
            body: { received: true, outcome: 'duplicate' },
          });
        }
        ls = await licenses();
        for (const o of delivered) {
          expect({ order: o.orderId, licenses: perOrder(ls, o.orderId) }).toEqual({
            order: o.orderId,
            licenses: 1,
          });
          const state = await call(`${store.url}/v1/checkout/${o.sessionId}`);
          expect((state.body as { status: string }).status).toBe('paid');
        }
        const ids = delivered.map((o) => o.orderId);
        const [row] = await dbQuery<{ n: string; orders: string }>(
          cluster.url,
          'SELECT count(*) AS n, count(DISTINCT order_id) AS orders FROM license WHERE order_id = ANY($1::uuid[])',
          [ids],
        );
        expect({ licenses: Number(row.n), orders: Number(row.orders) }).toEqual({
          licenses: ids.length,
          orders: ids.length,
        });

        // The store logged the outage as a dependency problem, never as an unhandled error.
        const log = store.output.slice(logFrom);
        expect(log.filter((l) => /unhandled error|uncaught|unhandledRejection/i.test(l))).toEqual([]);
        const msgs = new Map<string, number>();
        for (const l of log) {
          const m = /"level":(5\d|4\d)[^]*?"msg":"([^"]*)"/.exec(l);
          if (m) msgs.set(m[2], (msgs.get(m[2]) ?? 0) + 1);
        }
        note(`pg.${tag}.warnAndErrorLogLines`, Object.fromEntries(msgs));
      } finally {
        running = false;
        await Promise.allSettled(workers);
        if (!(await cluster.running())) await cluster.start().catch(() => undefined);
      }
    },
  );
});

// ---------------------------------------------------------------------------------------------------
// 2. The S3 blob store (MinIO) killed, then frozen (a hung peer).
// ---------------------------------------------------------------------------------------------------

describe('blob store unreachable (S3 driver on MinIO: SIGKILL, then SIGSTOP)', () => {
  let minio: FaultableMinio;
  let db: TestDatabase;
  let store: StoreProcess;
  let pub: Publisher;

  beforeAll(async () => {
    [minio, db] = await Promise.all([
      tracked(startFaultableMinio(), (m) => m.stop()),
      tracked(createTestDatabase('berth_faults_s3'), (d) => d.drop()),
    ]);
    store = await start({
      DATA_DIR: privateDir('berth-faults-s3-'),
      DATABASE_URL: db.url,
      ...s3StoreEnv(minio),
      STRIPE_SECRET_KEY: undefined,
      STRIPE_WEBHOOK_SECRET: undefined,
      STRIPE_API_URL: undefined,
    });
    cleanups.push(() => store.stop('SIGKILL'));
    pub = await createPublisher(store.url);
    expect((await upload(store, pub, await simpleChart('s3chart', '1.0.0'))).status).toBe(201);
    expect((await putListing(store.url, pub.slug, pub.apiToken, 's3chart')).status).toBe(200);
  });

  /** The refused version is nowhere: publisher API, index, table. */
  async function expectNotStored(version: string): Promise<void> {
    expect(await listedVersions(store, pub, 's3chart')).not.toContain(version);
    expect((await indexed(store, pub.slug, 's3chart')).has(version)).toBe(false);
    expect(await dbQuery(db.url, 'SELECT 1 FROM chart_version WHERE version = $1', [version])).toHaveLength(
      0,
    );
  }

  async function expectStoredExactly(version: string, archive: Buffer): Promise<void> {
    const served = await bytesOf(`${store.url}/helm/${pub.slug}/charts/s3chart-${version}.tgz`);
    expect({ status: served.status, sha: sha256(served.bytes) }).toEqual({
      status: 200,
      sha: sha256(archive),
    });
    expect((await indexed(store, pub.slug, 's3chart')).get(version)).toBe(sha256(archive));
  }

  async function bucketKeys(): Promise<string[]> {
    const s3 = new S3Client({
      endpoint: minio.endpoint,
      region: minio.region,
      forcePathStyle: true,
      credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
    });
    try {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: minio.bucket }));
      return (out.Contents ?? []).map((o) => o.Key!).sort();
    } finally {
      s3.destroy();
    }
  }

  it('MinIO killed: upload is a prompt 503 blob_store_unavailable with no version row; after MinIO is back the same version is 201, not 409', async () => {
    const archive = await simpleChart('s3chart', '1.1.0');
    await minio.signal('SIGKILL');
    const refused = await upload(store, pub, archive);
    note('s3.killed.upload503Ms', refused.ms);
    expectRetryLater(refused, 'blob_store_unavailable');
    expect(refused.text).not.toMatch(new RegExp(`${minio.bucket}|127\\.0\\.0\\.1|ECONNREFUSED`));
    const ready = await call(`${store.url}/readyz`);
    expect({ status: ready.status, body: ready.body }).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { database: 'up', blobStore: 'down' } },
    });
    // Reads of stored archives are refused the same way, not a 500.
    const read = await call(`${store.url}/helm/${pub.slug}/charts/s3chart-1.0.0.tgz`);
    note('s3.killed.read503Ms', read.ms);
    expectRetryLater(read, 'blob_store_unavailable');
    await expectNotStored('1.1.0');
    expectAlive(store);

    const restartAt = Date.now();
    await minio.restart();
    await waitFor('readyz 200', async () => (await call(`${store.url}/readyz`)).status === 200, 30_000, 50);
    note('s3.killed.readyAfterRestartMs', Date.now() - restartAt);
    const again = await upload(store, pub, archive);
    expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: { saved: true } });
    await expectStoredExactly('1.1.0', archive);
  });

  it('MinIO frozen (SIGSTOP, connections accepted but never answered): the upload 503 comes within a bound, not a hang', async () => {
    const archive = await simpleChart('s3chart', '1.2.0');
    if (!minio.pid()) await minio.restart(); // the previous test failed half way
    const keysBefore = await bucketKeys();
    await minio.signal('SIGSTOP');
    try {
      const ready = await call(`${store.url}/readyz`);
      note('s3.frozen.readyzMs', ready.ms);
      expect(ready.status).toBe(503);
      // The S3 client gives each attempt 5 s to answer (3 attempts): well inside 30 s, where a proxy or
      // a client would give up on its own.
      const refused = await upload(store, pub, archive, HUNG_PEER_BOUND_MS);
      note('s3.frozen.upload503Ms', refused.ms);
      expectRetryLater(refused, 'blob_store_unavailable');
      await expectNotStored('1.2.0');
    } finally {
      await minio.signal('SIGCONT');
    }
    const resumedAt = Date.now();
    await waitFor('readyz 200', async () => (await call(`${store.url}/readyz`)).status === 200, 30_000, 50);
    note('s3.frozen.readyAfterResumeMs', Date.now() - resumedAt);
    const again = await upload(store, pub, archive);
    expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: { saved: true } });
    await expectStoredExactly('1.2.0', archive);
    // The aborted PutObject was sitting in MinIO's socket buffer: once resumed, MinIO may still store it.
    // Such an object has no row (the sweeper's business); every row's object exists.
    const rows = await dbQuery<{ blob_key: string }>(db.url, 'SELECT blob_key FROM chart_version');
    const keys = await bucketKeys();
    for (const r of rows) expect(keys).toContain(r.blob_key);
    const rowKeys = new Set(rows.map((r) => r.blob_key));
    note(
      's3.frozen.orphanObjectsAfterResume',
      keys.filter((k) => !rowKeys.has(k) && !keysBefore.includes(k)).length,
    );
    expect(store.output.filter((l) => /unhandled error|uncaught|unhandledRejection/i.test(l))).toEqual([]);
    expectAlive(store);
  });
});

// ---------------------------------------------------------------------------------------------------
// 3 (end). The orphan left by the kill after the blob write is swept once the grace period has passed.
// ---------------------------------------------------------------------------------------------------

describe('orphan blob sweep after the SIGKILL', () => {
  it('deletes the orphan blob after the grace period, and keeps every blob a version row points to', async () => {
    const k = kill!;
    expect(k?.orphan).toBeDefined();
    const { path, writtenAt, sweeperStartedAt } = k.orphan!;
    // Sweeps run every min(grace, 15 min) from start: the first one after the orphan is older than the grace.
    const latest = sweeperStartedAt + 2 * GRACE_SECONDS * 1000 + 15_000;
    const waitMs = Math.max(0, latest - Date.now());
    const started = Date.now();
    await waitFor('the orphan blob to be swept', async () => !existsSync(path), waitMs + 1000, 250);
    note('kill.orphanSweptAfterWriteMs', Date.now() - writtenAt);
    note('kill.orphanSweepWaitedHereMs', Date.now() - started);
    expect(k.store.output.some((l) => l.includes('swept orphan blobs'))).toBe(true);
    expectAlive(k.store);
    for (const [version, archive] of k.live) {
      const served = await bytesOf(`${k.store.url}/helm/${k.pub.slug}/charts/crashy-${version}.tgz`);
      expect({ version, status: served.status, sha: sha256(served.bytes) }).toEqual({
        version,
        status: 200,
        sha: sha256(archive),
      });
    }
    const tmp = join(k.dataDir, 'blobs', '.tmp');
    expect(filesUnder(tmp)).toEqual([]);
    process.stdout.write(`[faults] report ${JSON.stringify(report)}\n`);
  });
});
