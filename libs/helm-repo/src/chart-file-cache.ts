import { Injectable, OnModuleInit } from '@nestjs/common';
import { CatalogChanges, ChartFileRef } from '@berth/catalog';

/** Archives up to this size are kept in memory once read; larger ones are always streamed. */
export const MAX_CACHED_ARCHIVE_BYTES = 256 * 1024;
/** All kept archive bytes together; beyond it the least recently pulled go first. */
const ARCHIVE_BYTES_BUDGET = 32 * 1024 * 1024;
/** File names remembered per store: a pull is one map lookup instead of a query. */
const MAX_REFS = 20_000;
/** File names looked up and not found, remembered as long as no notice could have made them exist. */
const MAX_MISSES = 20_000;

interface Entry {
  ref: ChartFileRef;
  /** `${publisherId}/${chart name}`, the unit catalog notices invalidate. */
  chart: string;
}

/**
 * What a `helm pull` or install needs, kept between requests: which stored version a file name means
 * (dropped when the catalog announces a change to its chart, on any replica) and the archive's bytes
 * (kept by blob key; blobs are written once under a fresh key and never rewritten, so bytes cannot go
 * stale). Misses are kept too, in a bounded set of their own (strangers choose them, so they never push
 * out a real file): were a repeated miss a query and a repeated private file not, the timing would tell
 * a private chart from a missing one. While the change feed is down nothing is served from here, since a
 * yank or a listing change might go unheard.
 */
@Injectable()
export class ChartFileCache implements OnModuleInit {
  private readonly refs = new Map<string, Entry>();
  private readonly byChart = new Map<string, Set<string>>();
  /** `${publisherId}/${fileBase}` of lookups that found nothing, oldest first. */
  private readonly misses = new Set<string>();
  private readonly archives = new Map<string, Buffer>();
  private archiveBytes = 0;
  /** Bumped by every notice: a lookup that started before one must not store what it read. */
  private generation = 0;
  readonly stats = { refHits: 0, refMisses: 0 };

  constructor(private readonly changes: CatalogChanges) {}

  onModuleInit(): void {
    this.changes.subscribe((change) => {
      this.generation += 1;
      if (change === 'all') {
        this.refs.clear();
        this.byChart.clear();
        this.misses.clear();
        return;
      }
      const chart = `${change.publisherId}/${change.chart}`;
      // Any `<chart>-<version>` may exist now (a longer chart name with this prefix is dropped too: harmless).
      for (const key of this.misses) if (key.startsWith(`${chart}-`)) this.misses.delete(key);
      for (const key of this.byChart.get(chart) ?? []) this.refs.delete(key);
      this.byChart.delete(chart);
    });
  }

  get current(): number {
    return this.generation;
  }

  /** `count: false` for a look whose caller counts what it used (see countHit). */
  ref(publisherId: string, fileBase: string, count = true): ChartFileRef | undefined {
    if (!this.changes.live) return undefined;
    const entry = this.refs.get(`${publisherId}/${fileBase}`);
    if (count && entry) this.stats.refHits += 1;
    else if (count) this.stats.refMisses += 1;
    return entry?.ref;
  }

  countHit(): void {
    this.stats.refHits += 1;
  }

  countMiss(): void {
    this.stats.refMisses += 1;
  }

  /** A lookup of this name found nothing, and no notice since could have changed that. */
  knownMissing(publisherId: string, fileBase: string): boolean {
    return this.changes.live && this.misses.has(`${publisherId}/${fileBase}`);
  }

  rememberMissing(publisherId: string, fileBase: string, generation: number): void {
    if (generation !== this.generation || !this.changes.live) return;
    if (this.misses.size >= MAX_MISSES) this.misses.delete(this.misses.values().next().value as string);
    this.misses.add(`${publisherId}/${fileBase}`);
  }

  rememberRef(publisherId: string, fileBase: string, ref: ChartFileRef, generation: number): void {
    if (generation !== this.generation || !this.changes.live) return;
    const key = `${publisherId}/${fileBase}`;
    if (this.refs.size >= MAX_REFS && !this.refs.has(key))
      this.forgetRef(this.refs.keys().next().value as string);
    const chart = `${publisherId}/${ref.name}`;
    this.refs.set(key, { ref, chart });
    let keys = this.byChart.get(chart);
    if (!keys) this.byChart.set(chart, (keys = new Set()));
    keys.add(key);
  }

  private forgetRef(key: string): void {
    const entry = this.refs.get(key);
    if (!entry) return;
    this.refs.delete(key);
    const keys = this.byChart.get(entry.chart);
    keys?.delete(key);
    if (keys && !keys.size) this.byChart.delete(entry.chart);
  }

  archive(blobKey: string): Buffer | undefined {
    const bytes = this.archives.get(blobKey);
    if (bytes) {
      // Most recently used last: eviction takes from the front.
      this.archives.delete(blobKey);
      this.archives.set(blobKey, bytes);
    }
    return bytes;
  }

  rememberArchive(blobKey: string, bytes: Buffer): void {
    if (bytes.length > MAX_CACHED_ARCHIVE_BYTES || this.archives.has(blobKey)) return;
    while (this.archiveBytes + bytes.length > ARCHIVE_BYTES_BUDGET && this.archives.size) {
      const [oldest, old] = this.archives.entries().next().value as [string, Buffer];
      this.archives.delete(oldest);
      this.archiveBytes -= old.length;
    }
    this.archives.set(blobKey, bytes);
    this.archiveBytes += bytes.length;
  }
}
