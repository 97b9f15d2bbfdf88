import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { API_TOKEN_SCOPES } from '@berth/accounts';
import { createPublisher, json, Publisher, putListing, uploadChart } from '../test/support/api';
import { createTestDatabase } from '../test/support/postgres';
import { startCheckout } from '../test/support/checkout';
import { startStore, StoreProcess } from '../test/support/store-process';
import {
  checkoutCompletedEvent,
  signStripe,
  startStripeMock,
  STRIPE_TEST_KEY,
  STRIPE_WEBHOOK_SECRET,
} from '../test/support/stripe';
import { onCleanup, trackChild } from './lifecycle';
import { basic, BenchFailure, firstOk, http, measure, pool, ScenarioResult, timedPool } from './load';
import type { ReadName, ReadTarget } from './reads';
import type { ChartFile, SyntheticStore } from './synthetic';

export const VENDOR_PRICE = { amount: 1900, currency: 'usd' };

export interface Berth {
  url: string;
  /** The store's database, for seeding what no API makes quickly (a year of download counts). */
  databaseUrl: string;
  pid(): number;
  /**
   * A second store process on the same database and DATA_DIR with `env` on top (another port): the same
   * data served with one setting changed, for a before/after in the same run. Stopped by `close` too.
   */
  twin(env: Record<string, string>): Promise<{ url: string; pid(): number; stop(): Promise<void> }>;
  /** Stops the store and starts it again on the same database and DATA_DIR; ms until the anonymous index answers 200. */
  restart(): Promise<number>;
  /** What the store logged (warn and above; the last 200 lines), for a reader wondering about the numbers. */
  logTail(): string[];
  /** Tears down store, stripe-mock and database (also done by the global cleanup on Ctrl-C). */
  close(): Promise<void>;
}

export interface Seeded {
  bench: Publisher;
  vendor: Publisher;
  upload: ScenarioResult;
  listingsSeconds: number;
  license: { id: string; key: string; chart: string };
}

/**
 * The built store as operators run it (NODE_ENV=production, real secrets, Stripe configured) against
 * stripe-mock and a fresh Postgres database. Limits that exist against abuse are raised so that they
 * never shape the numbers; logging is at warn so that it does not dominate them.
 */
export async function startBerth(dataDir: string, uploadConcurrency: number, main: string): Promise<Berth> {
  const releases: Array<() => Promise<void>> = [];
  const close = async () => {
    while (releases.length) await releases.pop()!();
  };
  try {
    const db = await createTestDatabase('berth_bench');
    releases.push(onCleanup(`drop database ${db.name}`, () => db.drop()));
    const stripe = await startStripeMock();
    releases.push(onCleanup('stop stripe-mock', () => stripe.stop()));
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      BLOB_STORE: 'fs',
      ACCESS_TOKEN_SECRET: randomBytes(32).toString('hex'),
      LICENSE_SIGNING_SECRET: randomBytes(32).toString('hex'),
      STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
      STRIPE_WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
      AUTH_FAILURES_PER_CLIENT: '1000000',
      AUTH_FAILURES_PER_CREDENTIAL: '1000000',
      CHECKOUTS_PER_CLIENT: '1000000',
      SIGNUPS_PER_CLIENT: '1000000',
      SIGNUP_EMAIL_VERIFICATION: 'off',
      UPLOAD_CONCURRENCY: String(Math.max(8, uploadConcurrency * 2)),
      LOG_LEVEL: 'warn',
      // Clients connect directly, and nobody scrapes: say so, as an operator would, so start-up is quiet.
      TRUST_PROXY: 'false',
      METRICS_TOKEN: randomBytes(32).toString('hex'),
    };
    let store = await launch(env, main);
    const stopStore = () => store.stop().then(() => undefined);
    releases.push(onCleanup('stop berth', stopStore));
    return {
      url: store.url,
      databaseUrl: db.url,
      pid: () => store.child.pid!,
      async twin(extra) {
        // The same PUBLIC_URL: license keys and access tokens name the store they were issued by.
        const other = await launch({ ...env, PUBLIC_URL: store.url, ...extra }, main);
        const release = onCleanup('stop berth twin', () => other.stop().then(() => undefined));
        let stopped: Promise<void> | undefined;
        const stop = () => (stopped ??= release());
        releases.push(stop);
        return { url: other.url, pid: () => other.child.pid!, stop };
      },
      async restart() {
        await store.stop();
        const t0 = performance.now();
        store = await launch({ ...env, PORT: String(store.port) }, main);
        const ms = await firstOk(`${store.url}/helm/bench/index.yaml`, t0, 600_000);
        if (ms === null) throw new BenchFailure('berth: no 200 from index.yaml within 10 min of a restart');
        return ms;
      },
      logTail: () => store.output.filter((line) => !line.includes('"event":"listening"')),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

async function launch(env: Record<string, string>, main: string): Promise<StoreProcess> {
  const store = await startStore(env, 600_000, main);
  trackChild(store.child);
  // Keep nothing but a tail: at warn level there is little, but a run may last an hour.
  store.child.stdout?.on('data', () => store.output.splice(0, Math.max(0, store.output.length - 200)));
  return store;
}

const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

async function expectStatus(what: string, res: Response, status: number): Promise<void> {
  if (res.status !== status)
    throw new BenchFailure(`${what}: ${res.status} ${JSON.stringify(await json(res))}`);
  await res.arrayBuffer();
}

/** Uploads one archive through ChartMuseum's API; its latency excludes reading the file. */
export function berthUploader(url: string, publisher: Publisher) {
  return async (f: ChartFile): Promise<number> => {
    const bytes = await readFile(f.path);
    const t0 = performance.now();
    const res = await uploadChart(url, publisher.slug, publisher.apiToken, bytes);
    const body = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 201)
      throw new BenchFailure(`berth upload ${f.name}-${f.version}: ${res.status} ${body}`);
    return ms;
  };
}

/**
 * The load phase: publishers, every version through the upload API at a fixed concurrency (the
 * upload measurement), the listings, and one complimentary license for the licensed scenarios.
 */
export async function seedBerth(
  berth: Berth,
  store: SyntheticStore,
  concurrency: number,
  log: (line: string) => void,
): Promise<Seeded> {
  const bench = await createPublisher(berth.url, 'bench', [...API_TOKEN_SCOPES]);
  const vendor = await createPublisher(berth.url, 'vendor', [...API_TOKEN_SCOPES]);
  const toBench = berthUploader(berth.url, bench);
  const toVendor = berthUploader(berth.url, vendor);
  const items = [
    ...store.bench.map((f) => ({ f, up: toBench })),
    ...store.vendor.map((f) => ({ f, up: toVendor })),
  ];
  const upload = await timedPool(items, concurrency, berth.pid(), ({ f, up }) => up(f), {
    progress: (done, total) => log(`  uploaded ${done}/${total}`),
  });

  const t0 = performance.now();
  const listings = [
    ...store.benchCharts.map((name) => ({ pub: bench, name, body: undefined })),
    ...store.vendorCharts.map((name) => ({
      pub: vendor,
      name,
      body: { price: VENDOR_PRICE, updatePolicy: { kind: 'all' }, published: true },
    })),
  ];
  await pool(listings, concurrency, async ({ pub, name, body }) =>
    expectStatus(
      `listing ${pub.slug}/${name}`,
      await putListing(berth.url, pub.slug, pub.apiToken, name, body),
      200,
    ),
  );
  const listingsSeconds = Math.round(performance.now() - t0) / 1000;

  const chart = store.vendorCharts[0];
  const grant = await fetch(`${berth.url}/v1/publishers/vendor/licenses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${vendor.apiToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ chart, email: 'licensed-buyer@bench.example' }),
  });
  const granted = (await json(grant)) as { id?: string; key?: string };
  if (grant.status !== 201 || !granted.id || !granted.key) {
    throw new BenchFailure(`license grant: ${grant.status} ${JSON.stringify(granted)}`);
  }
  return { bench, vendor, upload, listingsSeconds, license: { id: granted.id, key: granted.key, chart } };
}

interface IndexJson {
  entries: Record<string, Array<{ version: string; urls: string[] }>>;
}

async function getIndex(url: string, authorization?: string): Promise<IndexJson> {
  const r = await http(url, { headers: authorization ? { authorization } : {} });
  if (r.status !== 200) throw new BenchFailure(`GET ${url}: ${r.status} ${r.body.toString().slice(0, 300)}`);
  return JSON.parse(r.body.toString('utf8')) as IndexJson;
}

const versionCount = (idx: IndexJson) => Object.values(idx.entries).reduce((n, v) => n + v.length, 0);

function expectThat(ok: boolean, what: string, detail: Record<string, unknown>): Record<string, unknown> {
  if (!ok) throw new BenchFailure(`check failed: ${what}: ${JSON.stringify(detail)}`);
  return detail;
}

/**
 * Berth's side of every read: indexes as each kind of client sees them, anonymous and licensed pulls,
 * online verification. `pulls` are the free archives the anonymous pulls cycle through.
 */
export function berthReads(
  berth: Berth,
  store: SyntheticStore,
  seeded: Seeded,
  versions: number,
  pulls: ChartFile[],
): Record<ReadName, ReadTarget> {
  const lic = seeded.license;
  const licensedAuth = basic(lic.id, lic.key);
  const publisherAuth = basic('ci', seeded.bench.apiToken);
  const licensedFiles = store.vendor.filter((f) => f.name === lic.chart);
  const benchIndex = '/helm/bench/index.yaml';
  const vendorIndex = '/helm/vendor/index.yaml';
  const benchCharts = store.benchCharts.length;
  const target = (request: ReadTarget['request'], check: ReadTarget['check']): ReadTarget => ({
    origin: berth.url,
    pid: () => berth.pid(),
    request,
    check,
  });
  const anonymousOk = async (authorization?: string) => {
    const idx = await getIndex(berth.url + benchIndex, authorization);
    const first = idx.entries[store.benchCharts[0]] ?? [];
    const charts = Object.keys(idx.entries).length;
    return expectThat(
      charts === benchCharts &&
        first.length === versions &&
        !store.vendorCharts.some((c) => c in idx.entries),
      'bench index holds every free chart with every version',
      { charts, versions: versionCount(idx), [store.benchCharts[0]]: first.length },
    );
  };
  const tgzOk = async (path: string, f: ChartFile, authorization?: string) => {
    const r = await http(berth.url + path, { headers: authorization ? { authorization } : {} });
    const served = sha256(r.body);
    return expectThat(
      r.status === 200 && served === sha256(await readFile(f.path)),
      'tgz bytes are the uploaded bytes',
      { status: r.status, file: `${f.name}-${f.version}.tgz`, sha256: served, sha256Matches: true },
    );
  };
  const benchTgz = (f: ChartFile) => `/helm/bench/charts/${f.name}-${f.version}.tgz`;
  const vendorTgz = (f: ChartFile) => `/helm/vendor/charts/${f.name}-${f.version}.tgz`;
  const verifyBody = JSON.stringify({ key: lic.key });
  return {
    index_anonymous: target({ paths: [benchIndex] }, () => anonymousOk()),
    index_publisher: target({ paths: [benchIndex], headers: { authorization: publisherAuth } }, () =>
      anonymousOk(publisherAuth),
    ),
    index_licensed: target({ paths: [vendorIndex], headers: { authorization: licensedAuth } }, async () => {
      const idx = await getIndex(berth.url + vendorIndex, licensedAuth);
      const charts = Object.keys(idx.entries);
      return expectThat(
        charts.length === 1 && charts[0] === lic.chart && idx.entries[lic.chart].length === versions,
        'the licensed index holds exactly the licensed chart, every version',
        { licensedIndexCharts: charts.length, chart: charts[0], versions: versionCount(idx) },
      );
    }),
    tgz_anonymous: target({ paths: pulls.map(benchTgz) }, async () => ({
      ...(await tgzOk(benchTgz(pulls[0]), pulls[0])),
      rotatingOver: pulls.length,
    })),
    tgz_licensed: target(
      { paths: licensedFiles.map(vendorTgz), headers: { authorization: licensedAuth } },
      async () => ({
        ...(await tgzOk(vendorTgz(licensedFiles[0]), licensedFiles[0], licensedAuth)),
        rotatingOver: licensedFiles.length,
      }),
    ),
    verify: target(
      {
        paths: ['/v1/licenses/verify'],
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: verifyBody,
      },
      async () => {
        const r = await http(`${berth.url}/v1/licenses/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: verifyBody,
        });
        const body = JSON.parse(r.body.toString()) as { valid?: boolean; license?: { id: string } };
        return expectThat(
          r.status === 200 && body.valid === true && body.license?.id === lic.id,
          'the key verifies',
          { status: r.status, valid: body.valid },
        );
      },
    ),
  };
}

interface Order {
  orderId: string;
  sessionId: string;
}

/** Starts `count` checkouts of the licensed vendor chart; stripe-mock opens each session. */
export async function createOrders(berth: Berth, chart: string, count: number): Promise<Order[]> {
  return pool(
    Array.from({ length: count }, (_, i) => i),
    8,
    async (i) => {
      try {
        const { orderId, sessionId } = await startCheckout(berth.url, {
          publisher: 'vendor',
          chart,
          email: `buyer-${i}@bench.example`,
        });
        return { orderId, sessionId };
      } catch (e) {
        throw new BenchFailure(`checkout ${i}: ${(e as Error).message}`);
      }
    },
  );
}

/** A paid checkout.session.completed for `o`, built like the test suites' (amount, currency and ids match). */
function completion(o: Order, i: number): { payload: string; signature: string } {
  const payload = checkoutCompletedEvent(o, {
    amount_total: VENDOR_PRICE.amount,
    currency: VENDOR_PRICE.currency,
    payment_intent: `pi_bench${i}${randomBytes(6).toString('hex')}`,
  });
  return { payload, signature: signStripe(payload) };
}

/**
 * Each request fulfils a distinct pending order: a shared cursor hands every request the next signed
 * event (autocannon calls setupRequest once per request sent), and `amount` stops at exactly M.
 * Afterwards the publisher's own listings must show M paid orders and M licenses.
 */
export async function webhookScenario(
  berth: Berth,
  seeded: Seeded,
  orders: Order[],
  connections: number,
): Promise<ScenarioResult> {
  // Signed just before sending: Stripe's tolerance is 5 minutes.
  const events = orders.map(completion);
  let cursor = 0;
  const outcomes: Record<string, number> = {};
  const result = await measure('webhook_fulfil', {
    url: berth.url,
    pid: berth.pid(),
    connections,
    duration: 0,
    amount: orders.length,
    requests: [
      {
        method: 'POST',
        path: '/v1/webhooks/stripe',
        setupRequest: (req) => {
          // Past M (never sent, see autocannon's httpClient) reuse the last: a duplicate is harmless.
          const e = events[Math.min(cursor++, events.length - 1)];
          return {
            ...req,
            body: e.payload,
            headers: { 'content-type': 'application/json', 'stripe-signature': e.signature },
          };
        },
        onResponse: (_status, body) => {
          const outcome = /"outcome":"([a-z_]+)"/.exec(body)?.[1] ?? 'none';
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        },
      },
    ],
  });
  result.check = await verifyFulfilment(berth, seeded, orders, outcomes);
  return result;
}

async function verifyFulfilment(
  berth: Berth,
  seeded: Seeded,
  orders: Order[],
  outcomes: Record<string, number>,
): Promise<Record<string, unknown>> {
  const auth = { authorization: `Bearer ${seeded.vendor.apiToken}` };
  const ids = new Set(orders.map((o) => o.orderId));
  /** Every row of a cursor-paged publisher list, 200 a page. */
  const all = async <T>(list: 'orders' | 'licenses'): Promise<T[]> => {
    const rows: T[] = [];
    let cursor: string | null = null;
    do {
      const url = `${berth.url}/v1/publishers/vendor/${list}?limit=200${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await (await fetch(url, { headers: auth })).json()) as Record<string, unknown>;
      rows.push(...(page[list] as T[]));
      cursor = page.nextCursor as string | null;
    } while (cursor);
    return rows;
  };
  const listed = await all<{ id: string; status: string }>('orders');
  const licenses = await all<{ orderId: string | null; status: string }>('licenses');
  const ordersPaid = listed.filter((o) => ids.has(o.id) && o.status === 'paid').length;
  const licensesIssued = licenses.filter(
    (l) => l.orderId && ids.has(l.orderId) && l.status === 'active',
  ).length;
  return expectThat(
    outcomes.fulfilled === orders.length && ordersPaid === orders.length && licensesIssued === orders.length,
    'every webhook fulfilled a distinct order',
    { ordersCreated: orders.length, outcomes, ordersPaid, licensesIssued },
  );
}
