import { createHash } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { CatalogChanges, ChartIndexState, ChartQueryService } from '@berth/catalog';
import { indexEntry } from './index-renderer';

/** One chart's `"name":[entries…]` member of the index's `entries`, rendered once per change. */
export interface ChartFragment {
  name: string;
  /**
   * Null when every version is yanked: no entry, but its last change still dates the index. Once the
   * public index is built, a public chart's bytes are a view into it, so they are held once.
   */
  json: Buffer | null;
  hash: string;
  public: boolean;
  chartId: string;
  versionChangedAt: number;
  listingChangedAt: number;
}

/**
 * An index answer, ready to send: every byte, its length, validators and (once asked for) its gzip. The
 * public view is one buffer; a buyer's view is a few slices of it around the licensed chart's entries.
 */
export interface IndexBody {
  parts: Buffer[];
  length: number;
  etag: string;
  /** The gzip representation's own strong ETag (RFC 9110 8.8.3). */
  gzipEtag: string;
  generated: Date;
  /** `generated` as an HTTP date, formatted once. */
  lastModified: string;
  /** Computed off the event loop on the first request that accepts gzip, then kept with the body. */
  gzip(): Promise<Buffer>;
  /** The gzip bytes when already computed: what a request answered from memory may send. */
  gzipped(): Buffer | undefined;
}

export type IndexAudience = 'public' | 'publisher';

const COMMA = Buffer.from(',');
const HEAD = Buffer.from('{"apiVersion":"v1","entries":{');
const LOAD_BATCH = 200;
/** Distinct buyers' views kept per repository (one per chart and entitlement, not per buyer). */
const MAX_LICENSED_VIEWS = 1_000;
/**
 * Gzip bytes of buyers' views kept across the store. A view's own bytes are slices of the public
 * index (a few hundred bytes of its own), but its gzip is a whole compressed index: bounded apart.
 */
export const LICENSED_GZIP_BUDGET_BYTES = 32 * 1024 * 1024;
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

const tailOf = (generated: Date, contextPath: string) =>
  Buffer.from(
    `},"generated":${JSON.stringify(generated.toISOString())},"serverInfo":${JSON.stringify({ contextPath })}}`,
  );

/** The ETag hashes the fragments' own hashes, so no request ever hashes a whole body. */
const etagOf = (hashes: string[], tail: Buffer) => `"${sha([hashes.join(','), '|', tail]).slice(0, 32)}"`;

function indexBody(
  parts: Buffer[],
  etag: string,
  generated: Date,
  onGzip?: (bytes: Buffer) => void,
): IndexBody {
  let gz: Promise<Buffer> | null = null;
  let done: Buffer | undefined;
  return {
    parts,
    length: parts.reduce((n, p) => n + p.length, 0),
    etag,
    gzipEtag: etag.replace(/"$/, '-gz"'),
    generated,
    lastModified: generated.toUTCString(),
    gzip: () =>
      (gz ??= gzipParts(parts).then((bytes) => {
        done = bytes;
        onGzip?.(bytes);
        return bytes;
      })),
    gzipped: () => done,
  };
}

/**
 * The body from fragments in name order: `{"apiVersion":"v1","entries":{…},"generated":…,
 * "serverInfo":{…}}`, byte for byte what JSON.stringify of the whole index gives, as the list of
 * buffers it is written from (the fragments' own, never copied).
 */
export function assembleIndex(fragments: ChartFragment[], generated: Date, contextPath: string): IndexBody {
  const tail = tailOf(generated, contextPath);
  const parts: Buffer[] = [HEAD];
  const hashes: string[] = [];
  for (const f of fragments) {
    if (!f.json) continue;
    if (hashes.length) parts.push(COMMA);
    parts.push(f.json);
    hashes.push(f.hash);
  }
  parts.push(tail);
  return indexBody(parts, etagOf(hashes, tail), generated);
}

/**
 * On average one chart in this many starts a new segment of the public index: a few hundred KB each at
 * realistic chart sizes. Where segments start depends on chart names alone, so a change re-copies only
 * the segment of the chart that changed.
 */
const SEGMENT_SPREAD = 32;
/** A segment is also cut before it passes this size, so one huge run cannot make every change costly. */
const MAX_SEGMENT_BYTES = 2 * 1024 * 1024;

/** FNV-1a of a chart name: decides, by the name alone, whether the chart starts a segment. */
function startsSegment(name: string): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SEGMENT_SPREAD === 0;
}

/** A run of consecutive public charts' entries, comma-separated, in one buffer. */
interface Segment {
  bytes: Buffer;
  names: string[];
  /** Where each chart's bytes start in `bytes`. */
  offsets: number[];
  /** The charts' hashes joined: the same key means the same bytes. */
  key: string;
}

function buildSegment(run: ChartFragment[], key: string): Segment {
  const length = run.reduce((n, f) => n + f.json!.length, 0) + run.length - 1;
  // Fresh memory costs page faults (on this kind of VM ~3 ms per MB): only a changed run is copied.
  const bytes = Buffer.allocUnsafe(length);
  const offsets: number[] = [];
  let at = 0;
  for (const f of run) {
    if (offsets.length) at += COMMA.copy(bytes, at);
    offsets.push(at);
    at += f.json!.copy(bytes, at);
  }
  return { bytes, names: run.map((f) => f.name), offsets, key };
}

/**
 * The public index as a list of segments, each a buffer holding a run of charts, with where each chart
 * starts: what buyers' views are cut from. Built from the previous index, it reuses every segment whose
 * charts did not change, so a change costs one segment's copy instead of the whole index's (at 100,000
 * versions the index is ~47 MB: one fresh buffer per change took ~190 ms here).
 */
export class PublicIndex {
  readonly body: IndexBody;
  private readonly segments: Segment[] = [];
  /** The charts with entries, in order, with their segment and hash. */
  private readonly names: string[] = [];
  private readonly hashes: string[] = [];
  private readonly segmentOf: number[] = [];
  private readonly offsetIn: number[] = [];

  /** Points each included fragment's bytes into its segment, so they are held once. */
  constructor(
    fragments: ChartFragment[],
    generated: Date,
    contextPath: string,
    previous?: PublicIndex | null,
  ) {
    const reusable = new Map((previous?.segments ?? []).map((seg) => [seg.key, seg]));
    const included = fragments.filter((f) => f.json);
    let run: ChartFragment[] = [];
    let runBytes = 0;
    const close = () => {
      if (!run.length) return;
      const key = run.map((f) => f.hash).join(',');
      const seg = reusable.get(key) ?? buildSegment(run, key);
      const index = this.segments.push(seg) - 1;
      run.forEach((f, i) => {
        const at = seg.offsets[i];
        f.json = seg.bytes.subarray(at, at + f.json!.length);
        this.names.push(f.name);
        this.hashes.push(f.hash);
        this.segmentOf.push(index);
        this.offsetIn.push(at);
      });
      run = [];
      runBytes = 0;
    };
    for (const f of included) {
      if (run.length && (startsSegment(f.name) || runBytes + f.json!.length > MAX_SEGMENT_BYTES)) close();
      run.push(f);
      runBytes += f.json!.length + 1;
    }
    close();
    const tail = tailOf(generated, contextPath);
    this.body = indexBody(this.partsAround([], tail), etagOf(this.hashes, tail), generated);
  }

  has(name: string): boolean {
    return this.position(name).found;
  }

  /** Where `name` is, or would be, among the included charts (binary search; names are sorted). */
  private position(name: string): { index: number; found: boolean } {
    let lo = 0;
    let hi = this.names.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.names[mid] < name) lo = mid + 1;
      else hi = mid;
    }
    return { index: lo, found: lo < this.names.length && this.names[lo] === name };
  }

  /** The index's parts with `insert` (already comma-terminated) placed before included chart `at`. */
  private partsAround(insert: Buffer[], tail: Buffer, at = this.names.length): Buffer[] {
    const parts: Buffer[] = [HEAD];
    const cutSegment = at < this.names.length ? this.segmentOf[at] : -1;
    this.segments.forEach((seg, i) => {
      if (i) parts.push(COMMA);
      if (i !== cutSegment) return void parts.push(seg.bytes);
      const cut = this.offsetIn[at];
      if (cut) parts.push(seg.bytes.subarray(0, cut));
      parts.push(...insert, seg.bytes.subarray(cut));
    });
    if (cutSegment < 0 && insert.length) {
      if (this.segments.length) parts.push(COMMA);
      parts.push(...insert.slice(0, -1)); // no comma after the last chart
    }
    parts.push(tail);
    return parts;
  }

  /**
   * A buyer's view: these bytes with `own` (a chart not in the public index) spliced into its place and
   * dated `generated`; the same bytes assembleIndex gives for the spliced list, without copying them.
   */
  withChart(
    own: ChartFragment | null,
    generated: Date,
    contextPath: string,
    onGzip?: (b: Buffer) => void,
  ): IndexBody {
    const tail = tailOf(generated, contextPath);
    const hashes = [...this.hashes];
    let parts: Buffer[];
    if (!own?.json) parts = this.partsAround([], tail);
    else {
      const { index } = this.position(own.name);
      hashes.splice(index, 0, own.hash);
      parts = this.partsAround([own.json, COMMA], tail, index);
    }
    return indexBody(parts, etagOf(hashes, tail), generated, onGzip);
  }
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

/** The gzip bytes of buyers' views, across every repository, least recently used first. */
class LicensedGzipBudget {
  private readonly kept = new Map<IndexBody, { bytes: number; drop: () => void }>();
  private total = 0;

  constructor(private readonly budget: number) {}

  add(body: IndexBody, bytes: number, drop: () => void): void {
    this.forget(body);
    this.kept.set(body, { bytes, drop });
    this.total += bytes;
    for (const [oldest, entry] of this.kept) {
      if (this.total <= this.budget || oldest === body) break;
      this.forget(oldest);
      entry.drop();
    }
  }

  touch(body: IndexBody): void {
    const entry = this.kept.get(body);
    if (!entry) return;
    this.kept.delete(body);
    this.kept.set(body, entry);
  }

  forget(body: IndexBody): void {
    const entry = this.kept.get(body);
    if (!entry) return;
    this.kept.delete(body);
    this.total -= entry.bytes;
  }
}

/** The cached state of one publisher's repository. */
class Repo {
  readonly fragments = new Map<string, ChartFragment>();
  readonly stale = new Set<string>();
  loaded = false;
  refreshing: Promise<void> | null = null;
  private sorted: ChartFragment[] | null = null;
  private publicIndex: PublicIndex | null = null;
  /** The last public index built, kept across changes so the next one reuses its unchanged segments. */
  private lastPublicIndex: PublicIndex | null = null;
  private publisherBody: IndexBody | null = null;
  /** Buyers' views by chart and entitlement; their bytes are slices of the public index. */
  private readonly licensed = new Map<string, IndexBody>();
  /** Bumped by every change or stale mark: a view built across one must not be kept. */
  epoch = 0;

  constructor(
    readonly publisherId: string,
    readonly contextPath: string,
    private readonly gzipBudget: LicensedGzipBudget,
  ) {}

  /** Answers can come from memory: loaded, and no change announced since. */
  get ready(): boolean {
    return this.loaded && !this.stale.size;
  }

  markStale(chart: string): void {
    this.stale.add(chart);
    this.changed();
  }

  licensedBody(key: string): IndexBody | undefined {
    const b = this.licensed.get(key);
    if (b) {
      this.licensed.delete(key);
      this.licensed.set(key, b);
      this.gzipBudget.touch(b);
    }
    return b;
  }

  rememberLicensed(key: string, body: IndexBody, epoch: number): void {
    if (epoch !== this.epoch) return;
    if (this.licensed.size >= MAX_LICENSED_VIEWS) {
      const [oldest, old] = this.licensed.entries().next().value as [string, IndexBody];
      this.licensed.delete(oldest);
      this.gzipBudget.forget(old);
    }
    this.licensed.set(key, body);
  }

  /** Called when a buyer's view has computed its gzip: the bytes count against the store-wide budget. */
  keptGzip(key: string, body: IndexBody, bytes: number): void {
    if (this.licensed.get(key) !== body) return;
    this.gzipBudget.add(body, bytes, () => {
      if (this.licensed.get(key) === body) this.licensed.delete(key);
    });
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
    this.publicIndex = null;
    this.publisherBody = null;
    for (const b of this.licensed.values()) this.gzipBudget.forget(b);
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

  publicView(): PublicIndex {
    this.publicIndex ??= new PublicIndex(
      this.inOrder().filter((f) => f.public),
      this.generated('public'),
      this.contextPath,
      this.lastPublicIndex,
    );
    return (this.lastPublicIndex = this.publicIndex);
  }

  body(audience: IndexAudience): IndexBody {
    // The public view first: it re-points public fragments into its buffer, which the publisher's shares.
    const pub = this.publicView();
    if (audience === 'public') return pub.body;
    return (this.publisherBody ??= assembleIndex(
      this.inOrder(),
      this.generated('publisher'),
      this.contextPath,
    ));
  }

  /** What is built already, for an answer from memory; undefined when something would have to be built. */
  builtBody(audience: IndexAudience): IndexBody | undefined {
    if (!this.ready) return undefined;
    return audience === 'public' ? this.publicIndex?.body : (this.publisherBody ?? undefined);
  }
}

/** Names a buyer's view: the chart and the entitlement, which alone decide what it shows. */
export const licensedViewKey = (chartName: string, view: string) => `${chartName} ${view}`;

/**
 * Each publisher's index kept as per-chart fragments, rendered once and re-rendered only for the chart
 * that changed (an upload, a yank, a listing edit), on any replica: catalog notices on the change feed
 * mark the chart stale and the next reader re-reads just that chart. The public index is then one ready
 * buffer (with its ETag and, once asked for, its gzip) until the next change; buyers' views are slices
 * of it. While the feed's listener is down, notices may be missed, so nothing is kept and every request
 * reads the database.
 */
@Injectable()
export class IndexFragmentCache implements OnModuleInit {
  private readonly repos = new Map<string, Repo>();
  private readonly gzipBudget = new LicensedGzipBudget(LICENSED_GZIP_BUDGET_BYTES);
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
    return (await this.fresh(publisherId, contextPath)).body(audience);
  }

  /**
   * The answer if it is already built and nothing changed since: no database, no rendering, no
   * assembling. `licensedView` (from licensedViewKey) for a buyer's view, else the audience's.
   */
  built(publisherId: string, audience: IndexAudience, licensedView?: string): IndexBody | undefined {
    if (!this.changes.live) return undefined;
    const repo = this.repos.get(publisherId);
    if (!repo?.ready) return undefined;
    return licensedView === undefined ? repo.builtBody(audience) : repo.licensedBody(licensedView);
  }

  /**
   * A buyer's view: the public index with the licensed chart's covered versions spliced in, built
   * once per chart and entitlement (`view`, from licensedViewKey) until the repository changes.
   * `covered` renders the licensed chart's own fragment; it is not called when the chart is free,
   * whose public entry already lists every live version.
   */
  async licensedBody(
    publisherId: string,
    chartName: string,
    view: string,
    contextPath: string,
    covered: () => Promise<ChartFragment>,
  ): Promise<IndexBody> {
    const repo = await this.fresh(publisherId, contextPath);
    const kept = repo.licensedBody(view);
    if (kept) return kept;
    const epoch = repo.epoch;
    const pub = repo.publicView();
    const generated = repo.generated('publisher');
    const own = pub.has(chartName) ? null : await covered();
    // Kept only if nothing changed while `covered` read the database (rememberLicensed checks the epoch).
    const body: IndexBody = pub.withChart(own, generated, contextPath, (gz) =>
      repo.keptGzip(view, body, gz.length),
    );
    repo.rememberLicensed(view, body, epoch);
    return body;
  }

  /** Up to date with every change announced before the call. */
  private async fresh(publisherId: string, contextPath: string): Promise<Repo> {
    if (!this.changes.live) {
      const once = new Repo(publisherId, contextPath, this.gzipBudget);
      await this.load(once);
      return once;
    }
    for (;;) {
      let repo = this.repos.get(publisherId);
      if (!repo || repo.contextPath !== contextPath) {
        repo = new Repo(publisherId, contextPath, this.gzipBudget);
        this.repos.set(publisherId, repo);
      }
      if (repo.ready) return repo;
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
