import { createHash } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { CatalogChanges, ChartIndexState, ChartQueryService } from '@berth/catalog';
import { indexEntry } from './index-renderer';

/** One chart's `"name":[entries…]` member of the index's `entries`, rendered once per change. */
export interface ChartFragment {
  name: string;
  /** Null when every version is yanked: no entry, but its last change still dates the index. */
  json: Buffer | null;
  hash: string;
  public: boolean;
  chartId: string;
  versionChangedAt: number;
  listingChangedAt: number;
}

/** An index body as the list of buffers it is written from; never joined, so it is held only once. */
export interface IndexBody {
  parts: Buffer[];
  length: number;
  etag: string;
  generated: Date;
  /** Computed on the first request that accepts gzip, then reused until the repository changes. */
  gzip(): Promise<Buffer>;
}

export type IndexAudience = 'public' | 'publisher';

const COMMA = Buffer.from(',');
const LOAD_BATCH = 200;
/** Distinct buyers' views kept per repository (one per chart and entitlement, not per buyer). */
const MAX_LICENSED_VIEWS = 1_000;
const sha = (parts: Array<string | Buffer>) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('base64url');
};

export function renderFragment(state: ChartIndexState): ChartFragment {
  const json = state.versions.length
    ? Buffer.from(`${JSON.stringify(state.name)}:${JSON.stringify(state.versions.map(indexEntry))}`)
    : null;
  return {
    name: state.name,
    json,
    hash: json ? sha([json]) : '',
    public: state.public,
    chartId: state.chartId,
    versionChangedAt: state.versionChangedAt?.getTime() ?? 0,
    listingChangedAt: state.listingChangedAt?.getTime() ?? 0,
  };
}

/**
 * Builds the body from fragments in name order: `{"apiVersion":"v1","entries":{…},"generated":…,
 * "serverInfo":{…}}`, byte for byte what JSON.stringify of the whole index gives. The ETag hashes the
 * fragments' own hashes, so no request ever hashes the whole body.
 */
export function assembleIndex(fragments: ChartFragment[], generated: Date, contextPath: string): IndexBody {
  const head = Buffer.from('{"apiVersion":"v1","entries":{');
  const tail = Buffer.from(
    `},"generated":${JSON.stringify(generated.toISOString())},"serverInfo":${JSON.stringify({ contextPath })}}`,
  );
  const parts: Buffer[] = [head];
  const hashes: string[] = [];
  for (const f of fragments) {
    if (!f.json) continue;
    if (hashes.length) parts.push(COMMA);
    parts.push(f.json);
    hashes.push(f.hash);
  }
  parts.push(tail);
  let gz: Promise<Buffer> | null = null;
  return {
    parts,
    length: parts.reduce((n, p) => n + p.length, 0),
    etag: `"${sha([hashes.join(','), '|', tail]).slice(0, 32)}"`,
    generated,
    gzip: () => (gz ??= gzipParts(parts)),
  };
}

function gzipParts(parts: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const z = createGzip();
    const out: Buffer[] = [];
    z.on('data', (c: Buffer) => out.push(c));
    z.on('end', () => resolve(Buffer.concat(out)));
    z.on('error', reject);
    for (const p of parts) z.write(p);
    z.end();
  });
}

/** The cached state of one publisher's repository. */
class Repo {
  readonly fragments = new Map<string, ChartFragment>();
  readonly stale = new Set<string>();
  loaded = false;
  refreshing: Promise<void> | null = null;
  private sorted: ChartFragment[] | null = null;
  private readonly bodies = new Map<string, IndexBody>();
  /** Buyers' views by chart and entitlement; their parts share the fragments' buffers. */
  private readonly licensed = new Map<string, IndexBody>();
  /** Bumped by every change or stale mark: a view built across one must not be kept. */
  epoch = 0;

  constructor(readonly publisherId: string) {}

  markStale(chart: string): void {
    this.stale.add(chart);
    this.changed();
  }

  licensedBody(key: string): IndexBody | undefined {
    const b = this.licensed.get(key);
    if (b) {
      this.licensed.delete(key);
      this.licensed.set(key, b);
    }
    return b;
  }

  rememberLicensed(key: string, body: IndexBody, epoch: number): void {
    if (epoch !== this.epoch) return;
    if (this.licensed.size >= MAX_LICENSED_VIEWS)
      this.licensed.delete(this.licensed.keys().next().value as string);
    this.licensed.set(key, body);
  }

  put(f: ChartFragment): void {
    this.fragments.set(f.name, f);
    this.changed();
  }

  remove(name: string): void {
    if (this.fragments.delete(name)) this.changed();
  }

  private changed(): void {
    this.epoch += 1;
    this.sorted = null;
    this.bodies.clear();
    this.licensed.clear();
  }

  inOrder(): ChartFragment[] {
    return (this.sorted ??= [...this.fragments.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    ));
  }

  /**
   * `generated`: the newest change the audience can see. The public one ignores drafts and paid charts
   * (their activity neither shows nor churns public caches) but counts every listing change, so a chart
   * leaving the public index dates it too.
   */
  generated(audience: IndexAudience): Date {
    let last = 0;
    for (const f of this.fragments.values()) {
      if (audience === 'publisher' || f.public) last = Math.max(last, f.versionChangedAt);
      last = Math.max(last, f.listingChangedAt);
    }
    return new Date(last);
  }

  body(audience: IndexAudience, contextPath: string): IndexBody {
    const key = `${audience} ${contextPath}`;
    let b = this.bodies.get(key);
    if (!b) {
      const fragments = audience === 'public' ? this.inOrder().filter((f) => f.public) : this.inOrder();
      b = assembleIndex(fragments, this.generated(audience), contextPath);
      this.bodies.set(key, b);
    }
    return b;
  }
}

/**
 * Each publisher's index kept as per-chart fragments, rendered once and re-rendered only for the chart
 * that changed (an upload, a yank, a listing edit), on any replica: catalog notices on the change feed
 * mark the chart stale and the next reader re-reads just that chart. While the feed's listener is down,
 * notices may be missed, so nothing is kept and every request reads the database.
 */
@Injectable()
export class IndexFragmentCache implements OnModuleInit {
  private readonly repos = new Map<string, Repo>();
  /** Chart fragments rendered (a chart's entries re-read and re-serialised): exported as a metric. */
  readonly stats = { fragmentsRendered: 0 };

  constructor(
    private readonly charts: ChartQueryService,
    private readonly changes: CatalogChanges,
  ) {}

  onModuleInit(): void {
    this.changes.subscribe((change) => {
      if (change === 'all') this.repos.clear();
      else this.repos.get(change.publisherId)?.markStale(change.chart);
    });
  }

  async body(publisherId: string, audience: IndexAudience, contextPath: string): Promise<IndexBody> {
    return (await this.fresh(publisherId)).body(audience, contextPath);
  }

  /**
   * A buyer's view: the public fragments with the licensed chart's covered versions spliced in, built
   * once per chart and entitlement (`view` names both) until the repository changes. `covered` renders
   * the licensed chart's own fragment; it is not called when the chart is free, whose public entry
   * already lists every live version.
   */
  async licensedBody(
    publisherId: string,
    chartName: string,
    view: string,
    contextPath: string,
    covered: () => Promise<ChartFragment>,
  ): Promise<IndexBody> {
    const repo = await this.fresh(publisherId);
    const key = `${chartName} ${view} ${contextPath}`;
    const kept = repo.licensedBody(key);
    if (kept) return kept;
    const epoch = repo.epoch;
    const fragments = repo.inOrder().filter((f) => f.public);
    const generated = repo.generated('publisher');
    if (!fragments.some((f) => f.name === chartName)) {
      const own = await covered();
      const at = fragments.findIndex((f) => f.name > chartName);
      fragments.splice(at < 0 ? fragments.length : at, 0, own);
    }
    const body = assembleIndex(fragments, generated, contextPath);
    repo.rememberLicensed(key, body, epoch);
    return body;
  }

  /** Up to date with every change announced before the call. */
  private async fresh(publisherId: string): Promise<Repo> {
    if (!this.changes.live) {
      const once = new Repo(publisherId);
      await this.load(once);
      return once;
    }
    for (;;) {
      let repo = this.repos.get(publisherId);
      if (!repo) {
        repo = new Repo(publisherId);
        this.repos.set(publisherId, repo);
      }
      if (repo.loaded && !repo.stale.size) return repo;
      if (!repo.refreshing) {
        const r = repo;
        r.refreshing = this.load(r).finally(() => (r.refreshing = null));
      }
      await repo.refreshing;
    }
  }

  /** First time: every chart, in batches (bounded memory); then only the charts marked stale. */
  private async load(repo: Repo): Promise<void> {
    const full = !repo.loaded;
    const names = full ? await this.charts.chartNames(repo.publisherId) : [...repo.stale];
    repo.stale.clear();
    try {
      for (let i = 0; i < names.length; i += LOAD_BATCH) {
        const batch = names.slice(i, i + LOAD_BATCH);
        const states = await this.charts.chartIndexStates(repo.publisherId, batch);
        const found = new Set(states.map((s) => s.name));
        for (const s of states) repo.put(renderFragment(s));
        this.stats.fragmentsRendered += states.length;
        for (const name of batch) if (!found.has(name)) repo.remove(name);
      }
    } catch (error) {
      // What was not re-read stays stale, so the next reader tries again.
      if (!full) for (const name of names) repo.stale.add(name);
      throw error;
    }
    repo.loaded = true;
  }
}
