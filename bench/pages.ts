import type { Berth } from './berth';
import { BenchFailure, http } from './load';
import { Cores, placeServer } from './pinning';
import { medianOf, spread } from './reads';
import { WORDS } from './synthetic';
import { Measurement, measureWrk } from './wrk';

/** The storefront pages the bench measures, and the p50 each should stay under (the storefront issue). */
export const PAGES = [
  { name: 'page_home', targetP50Ms: 5 },
  { name: 'page_chart', targetP50Ms: 10 },
  { name: 'page_search', targetP50Ms: 20 },
] as const;
export type PageName = (typeof PAGES)[number]['name'];
/** A chart page with its stylesheet and script, images aside. */
export const CHART_PAGE_BUDGET_BYTES = 60 * 1024;
/** Browsers open a handful of connections each: 16 stands for a few visitors at once. */
export const PAGE_CONNECTIONS = 16;

export interface PageResult {
  name: PageName;
  paths: number;
  /** Mean HTML bytes of the paths. */
  htmlBytes: number;
  targetP50Ms: number;
  /** Pinned, the median over the rounds. */
  median: Measurement;
  rounds: Measurement[];
}

export interface PagesResult {
  connections: number;
  pages: PageResult[];
  /** The heaviest chart page measured, with the stylesheet and script it links. */
  chartPageWeight: {
    path: string;
    htmlBytes: number;
    cssBytes: number;
    scriptBytes: number;
    totalBytes: number;
  };
}

const asset = (html: string, pattern: RegExp) => pattern.exec(html)?.[1];

/**
 * Home, chart and search pages under wrk at 16 connections, Berth pinned as for the reads: chart pages
 * rotate over 20 charts of the free publisher (every version seeded), searches over 10 queries; each answer
 * checked to be the page it should be before any load.
 */
export async function measurePages(
  berth: Berth,
  benchCharts: string[],
  o: { duration: number; warmup: number; rounds: number; cores: Cores; log(line: string): void },
): Promise<PagesResult> {
  const charts = spread(benchCharts, 20);
  const paths: Record<PageName, string[]> = {
    page_home: ['/'],
    page_chart: charts.map((c) => `/charts/bench/${c}`),
    page_search: spread(WORDS, 10).map((w) => `/charts?q=${encodeURIComponent(w)}`),
  };
  const html = new Map<string, string>();
  for (const [name, list] of Object.entries(paths)) {
    for (const path of list) {
      const r = await http(berth.url + path, { headers: { accept: 'text/html' } });
      const body = r.body.toString('utf8');
      const expected =
        name === 'page_chart' ? path.split('/').pop()! : name === 'page_home' ? 'Berth' : 'chart';
      if (r.status !== 200 || !/^<!doctype html>/i.test(body) || !body.includes(expected))
        throw new BenchFailure(`${name} ${path}: ${r.status} ${body.slice(0, 200)}`);
      html.set(path, body);
    }
  }
  // The heaviest chart page and what it links: the budget is for the whole first view.
  const [heaviest] = paths.page_chart
    .map((p) => [p, html.get(p)!] as const)
    .sort((a, b) => Buffer.byteLength(b[1]) - Buffer.byteLength(a[1]));
  const css = asset(heaviest[1], /<link rel="stylesheet" href="([^"]+)"/);
  const js = asset(heaviest[1], /<script src="([^"]+)"/);
  if (!css || !js) throw new BenchFailure(`chart page ${heaviest[0]} links no stylesheet or script`);
  const cssBytes = (await http(berth.url + css)).body.length;
  const scriptBytes = (await http(berth.url + js)).body.length;
  const htmlBytes = Buffer.byteLength(heaviest[1]);
  const smallest = (name: PageName) =>
    Math.min(...paths[name].map((path) => Buffer.byteLength(html.get(path)!)));

  placeServer(berth.pid(), 'pinned', o.cores);
  const pages: PageResult[] = [];
  for (const p of PAGES) {
    const run = (seconds: number) =>
      measureWrk(
        `berth ${p.name}`,
        {
          origin: berth.url,
          pid: berth.pid(),
          request: { paths: paths[p.name], headers: { accept: 'text/html' } },
          connections: PAGE_CONNECTIONS,
          duration: o.duration,
          mode: 'pinned',
          cores: o.cores,
          minBodyBytes: smallest(p.name),
        },
        seconds,
      );
    if (o.warmup > 0) await run(o.warmup);
    const rounds: Measurement[] = [];
    for (let i = 1; i <= o.rounds; i++) {
      const m = await run(o.duration);
      rounds.push(m);
      o.log(
        `  round ${i}/${o.rounds} ${p.name.padEnd(11)} ${m.reqPerSec} req/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms`,
      );
    }
    const sizes = paths[p.name].map((path) => Buffer.byteLength(html.get(path)!));
    pages.push({
      name: p.name,
      paths: sizes.length,
      htmlBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
      targetP50Ms: p.targetP50Ms,
      median: medianOf(rounds),
      rounds,
    });
  }
  return {
    connections: PAGE_CONNECTIONS,
    pages,
    chartPageWeight: {
      path: heaviest[0],
      htmlBytes,
      cssBytes,
      scriptBytes,
      totalBytes: htmlBytes + cssBytes + scriptBytes,
    },
  };
}

/** The pages' table and their targets, for the printed report. */
export function pagesReport(r: PagesResult): string[] {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const lines = [
    `| page | paths | HTML | req/s | p50 ms | p99 ms | target p50 | met |`,
    `|---|---|---|---|---|---|---|---|`,
    ...r.pages.map(
      (p) =>
        `| ${p.name} | ${p.paths} | ${kb(p.htmlBytes)} | ${p.median.reqPerSec} | ${p.median.p50Ms} | ` +
        `${p.median.p99Ms} | ≤ ${p.targetP50Ms} | ${p.median.p50Ms <= p.targetP50Ms ? 'yes' : 'NO'} |`,
    ),
  ];
  const w = r.chartPageWeight;
  lines.push(
    '',
    `Heaviest chart page ${w.path}: ${kb(w.htmlBytes)} HTML + ${kb(w.cssBytes)} CSS + ${kb(w.scriptBytes)} script ` +
      `= ${kb(w.totalBytes)} (budget ${kb(CHART_PAGE_BUDGET_BYTES)}: ${w.totalBytes <= CHART_PAGE_BUDGET_BYTES ? 'met' : 'NOT MET'})`,
  );
  return lines;
}
