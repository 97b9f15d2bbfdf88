import { Client } from 'pg';
import type { Berth } from './berth';
import { BenchFailure, http } from './load';
import { Cores, placeServer } from './pinning';
import { medianOf, ReadTarget } from './reads';
import { Measurement, measureWrk } from './wrk';

/** The console issue's bars: counting may cost the licensed pull at most 5 %; its pages p50 ≤ 50 ms. */
export const COUNTING_COST_BUDGET_PCT = 5;
export const CONSOLE_P50_TARGET_MS = 50;
/** Download counts seeded before the console reads are measured: one per row, a year of days. */
export const SEEDED_PULLS = 1_000_000;
// One publisher at a page: the answer time is what a person waits (more connections on the one pinned core
// would measure queueing; req/s is reported beside it).
const CONSOLE_CONNECTIONS = 1;

export interface CountingCost {
  /** Median of the rounds with counting on (the store as shipped) and off (DOWNLOAD_COUNTING=off). */
  on: Measurement;
  off: Measurement;
  /** How much throughput counting takes: 1 − on ÷ off, in % (negative: noise in counting's favour). */
  costPct: number;
  cpuCostPct: number;
  rounds: Array<{ onReqPerSec: number; offReqPerSec: number }>;
}

export interface ConsoleRead {
  name: string;
  path: string;
  bytes: number;
  median: Measurement;
}

export interface ConsoleBenchResult {
  countingCost: CountingCost;
  seededPulls: number;
  seedSeconds: number;
  reads: ConsoleRead[];
}

interface Options {
  duration: number;
  warmup: number;
  rounds: number;
  cores: Cores;
  log(line: string): void;
}

/**
 * The licensed `.tgz` pull with download counting on and off, in the same run: two fresh twin stores on
 * the same database and files, alike but for DOWNLOAD_COUNTING (the store measured so far has a heap of
 * a whole run behind it, which alone moved the figure by 10 %), measured in alternating rounds, each
 * pinned to the server core while the other idles, so drift in the machine falls on both alike.
 */
export async function measureCountingCost(berth: Berth, tgz: ReadTarget, o: Options): Promise<CountingCost> {
  const on = await berth.twin({ DOWNLOAD_COUNTING: 'on' });
  const off = await berth.twin({ DOWNLOAD_COUNTING: 'off' });
  try {
    const sides = [on, off].map((t) => ({ origin: t.url, pid: () => t.pid() }));
    for (const side of sides) {
      const r = await http(side.origin + tgz.request.paths[0], { headers: tgz.request.headers });
      if (r.status !== 200) throw new BenchFailure(`counting cost: ${side.origin} answered ${r.status}`);
    }
    const run = async (side: (typeof sides)[number], seconds: number) => {
      placeServer(side.pid(), 'pinned', o.cores);
      try {
        return await measureWrk(
          'berth tgz_licensed (counting)',
          {
            origin: side.origin,
            pid: side.pid(),
            request: tgz.request,
            connections: 16,
            duration: o.duration,
            mode: 'pinned',
            cores: o.cores,
            minBodyBytes: 512,
          },
          seconds,
        );
      } finally {
        placeServer(side.pid(), 'unpinned', o.cores);
      }
    };
    if (o.warmup > 0) for (const side of sides) await run(side, o.warmup);
    const counted: Measurement[] = [];
    const uncounted: Measurement[] = [];
    const rounds: CountingCost['rounds'] = [];
    for (let i = 1; i <= o.rounds; i++) {
      // Alternate which goes first, so neither always meets the warmer (or more tired) machine.
      const order = i % 2 ? [0, 1] : [1, 0];
      const got: Measurement[] = [];
      for (const k of order) got[k] = await run(sides[k], o.duration);
      counted.push(got[0]);
      uncounted.push(got[1]);
      rounds.push({ onReqPerSec: got[0].reqPerSec, offReqPerSec: got[1].reqPerSec });
      o.log(
        `  round ${i}/${o.rounds} tgz_licensed counting on ${got[0].reqPerSec} req/s, off ${got[1].reqPerSec} req/s`,
      );
    }
    const m = { on: medianOf(counted), off: medianOf(uncounted) };
    const pct = (a: number, b: number) => Math.round((1 - a / b) * 1000) / 10;
    return {
      ...m,
      costPct: pct(m.on.reqPerSec, m.off.reqPerSec),
      cpuCostPct: -pct(m.on.serverCpuUsPerRequest, m.off.serverCpuUsPerRequest),
      rounds,
    };
  } finally {
    await Promise.all([on.stop(), off.stop()]);
  }
}

/**
 * A year of download counts for the licenses of one chart, straight into the tables the counter writes:
 * SEEDED_PULLS rows of license × version × day (one pull each; fewer when the chart's licenses and
 * versions cannot make that many), the chart totals they sum to, and a
 * client hash per row for the last 30 days (what the sharing flag and distinct clients read).
 */
export async function seedPulls(
  berth: Berth,
  publisher: string,
  chart: string,
): Promise<{ pulls: number; seconds: number }> {
  const t0 = Date.now();
  const db = new Client({ connectionString: berth.databaseUrl });
  await db.connect();
  try {
    const { rows: lic } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM license l JOIN chart c ON c.id = l.chart_id
         JOIN publisher p ON p.id = c.publisher_id WHERE p.slug = $1 AND c.name = $2`,
      [publisher, chart],
    );
    const { rows: ver } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM chart_version v JOIN chart c ON c.id = v.chart_id
         JOIN publisher p ON p.id = c.publisher_id WHERE p.slug = $1 AND c.name = $2`,
      [publisher, chart],
    );
    // A small run (the smoke test's) has too few licenses and versions for a million distinct rows.
    const pulls = Math.min(SEEDED_PULLS, lic[0].n * ver[0].n * 365);
    await db.query('BEGIN');
    await db.query(
      `CREATE TEMP TABLE lics ON COMMIT DROP AS
         SELECT row_number() OVER (ORDER BY l.id) - 1 AS i, l.id, l.chart_id
           FROM license l JOIN chart c ON c.id = l.chart_id JOIN publisher p ON p.id = c.publisher_id
          WHERE p.slug = $1 AND c.name = $2`,
      [publisher, chart],
    );
    await db.query(
      `CREATE TEMP TABLE vers ON COMMIT DROP AS
         SELECT row_number() OVER (ORDER BY v.version) - 1 AS i, v.version
           FROM chart_version v JOIN chart c ON c.id = v.chart_id JOIN publisher p ON p.id = c.publisher_id
          WHERE p.slug = $1 AND c.name = $2`,
      [publisher, chart],
    );
    const L = lic[0].n;
    // Staged first: the rows join what the store itself counted during the run (today's pulls).
    await db.query(
      `CREATE TEMP TABLE seed ON COMMIT DROP AS
       SELECT l.id AS license_id, v.version, current_date - ((n / $1) % 365)::int AS day, l.chart_id, 1::bigint AS pulls
         FROM generate_series(0, $2 - 1) AS n
         JOIN lics l ON l.i = n % $1
         JOIN vers v ON v.i = n / ($1 * 365)`,
      [L, pulls],
    );
    await db.query(
      `INSERT INTO license_download_daily (license_id, version, day, chart_id, pulls)
       SELECT license_id, version, day, chart_id, pulls FROM seed
       ON CONFLICT (license_id, version, day) DO UPDATE SET pulls = license_download_daily.pulls + EXCLUDED.pulls`,
    );
    await db.query(
      `INSERT INTO license_download_total (license_id, pulls, first_day, last_day)
       SELECT license_id, sum(pulls), min(day), max(day) FROM seed GROUP BY license_id
       ON CONFLICT (license_id) DO UPDATE SET pulls = license_download_total.pulls + EXCLUDED.pulls,
         first_day = LEAST(license_download_total.first_day, EXCLUDED.first_day),
         last_day = GREATEST(license_download_total.last_day, EXCLUDED.last_day)`,
    );
    await db.query(
      `INSERT INTO chart_download_daily (chart_id, version, day, pulls)
       SELECT chart_id, version, day, sum(pulls) FROM seed GROUP BY chart_id, version, day
       ON CONFLICT (chart_id, version, day) DO UPDATE SET pulls = chart_download_daily.pulls + EXCLUDED.pulls`,
    );
    await db.query(
      `INSERT INTO download_client_daily (day, chart_id, license_id, client)
       SELECT day, chart_id, license_id, substr(md5(license_id::text || version), 1, 22)
         FROM seed WHERE day > current_date - 30
       ON CONFLICT DO NOTHING`,
    );
    await db.query('COMMIT');
    await db.query(
      'ANALYZE license_download_daily, license_download_total, chart_download_daily, download_client_daily',
    );
    return { pulls, seconds: Math.round((Date.now() - t0) / 100) / 10 };
  } catch (e) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await db.end();
  }
}

/**
 * The console's heavy reads over the seeded counts, as the publisher's browser and scripts ask for them:
 * the orders and licenses pages, the analytics page and the /v1 analytics query for a year, and one
 * license's year. Each checked to be a 200 with its content before any load.
 */
export async function measureConsoleReads(
  berth: Berth,
  publisher: { slug: string; email: string; password: string },
  o: Options,
): Promise<ConsoleRead[]> {
  const signIn = await fetch(`${berth.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(berth.url).origin },
    body: new URLSearchParams({ email: publisher.email, password: publisher.password }).toString(),
  });
  const cookie = /^(berth_console=[^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')?.[1];
  if (!cookie) throw new BenchFailure(`console sign-in: ${signIn.status}`);
  const login = await fetch(`${berth.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: publisher.email, password: publisher.password }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const bearer = { authorization: `Bearer ${accessToken}` };
  const licenses = (await (
    await fetch(`${berth.url}/v1/publishers/${publisher.slug}/licenses?limit=1`, { headers: bearer })
  ).json()) as { licenses: Array<{ id: string }> };
  const day = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
  const year = `from=${day(364)}&to=${day(0)}`;
  const base = `/console/${publisher.slug}`;
  const page = { cookie, accept: 'text/html' };
  const targets = [
    { name: 'console_orders', path: `${base}/orders`, headers: page, expect: 'Orders' },
    { name: 'console_licenses', path: `${base}/licenses`, headers: page, expect: 'Licenses' },
    { name: 'console_analytics', path: `${base}/analytics?${year}`, headers: page, expect: 'Analytics' },
    {
      name: 'api_analytics_year',
      path: `/v1/publishers/${publisher.slug}/analytics/downloads?${year}`,
      headers: bearer,
      expect: '"pulls"',
    },
    {
      name: 'api_analytics_license',
      path: `/v1/publishers/${publisher.slug}/analytics/downloads?${year}&license=${licenses.licenses[0].id}`,
      headers: bearer,
      expect: '"pulls"',
    },
  ];
  const out: ConsoleRead[] = [];
  placeServer(berth.pid(), 'pinned', o.cores);
  try {
    for (const t of targets) {
      const r = await http(berth.url + t.path, { headers: t.headers });
      const body = r.body.toString('utf8');
      if (r.status !== 200 || !body.includes(t.expect))
        throw new BenchFailure(`${t.name} ${t.path}: ${r.status} ${body.slice(0, 200)}`);
      const run = (seconds: number) =>
        measureWrk(
          `berth ${t.name}`,
          {
            origin: berth.url,
            pid: berth.pid(),
            request: { paths: [t.path], headers: t.headers },
            connections: CONSOLE_CONNECTIONS,
            duration: o.duration,
            mode: 'pinned',
            cores: o.cores,
            minBodyBytes: Math.floor(r.body.length / 2),
          },
          seconds,
        );
      if (o.warmup > 0) await run(o.warmup);
      const rounds: Measurement[] = [];
      for (let i = 1; i <= o.rounds; i++) {
        const m = await run(o.duration);
        rounds.push(m);
        o.log(`  round ${i}/${o.rounds} ${t.name.padEnd(21)} ${m.reqPerSec} req/s, p50 ${m.p50Ms} ms`);
      }
      out.push({ name: t.name, path: t.path, bytes: r.body.length, median: medianOf(rounds) });
    }
  } finally {
    placeServer(berth.pid(), 'unpinned', o.cores);
  }
  return out;
}

/** The console phase's tables and targets, for the printed report. */
export function consoleReport(r: ConsoleBenchResult): string[] {
  const c = r.countingCost;
  return [
    `| licensed .tgz | req/s | p50 ms | server CPU µs/req |`,
    `|---|---|---|---|`,
    `| counting off | ${c.off.reqPerSec} | ${c.off.p50Ms} | ${c.off.serverCpuUsPerRequest} |`,
    `| counting on | ${c.on.reqPerSec} | ${c.on.p50Ms} | ${c.on.serverCpuUsPerRequest} |`,
    '',
    `Counting costs ${c.costPct} % of throughput (${c.cpuCostPct} % CPU per pull); budget ${COUNTING_COST_BUDGET_PCT} %: ` +
      `${c.costPct <= COUNTING_COST_BUDGET_PCT ? 'met' : 'NOT MET'}.`,
    '',
    `Over ${r.seededPulls.toLocaleString('en')} recorded pulls (seeded in ${r.seedSeconds} s), ${CONSOLE_CONNECTIONS} connections:`,
    `| read | bytes | req/s | p50 ms | p99 ms | target p50 | met |`,
    `|---|---|---|---|---|---|---|`,
    ...r.reads.map(
      (x) =>
        `| ${x.name} | ${x.bytes} | ${x.median.reqPerSec} | ${x.median.p50Ms} | ${x.median.p99Ms} | ≤ ${CONSOLE_P50_TARGET_MS} | ` +
        `${x.median.p50Ms <= CONSOLE_P50_TARGET_MS ? 'yes' : 'NO'} |`,
    ),
  ];
}
