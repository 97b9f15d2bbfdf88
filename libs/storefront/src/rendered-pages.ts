import { createHash } from 'node:crypto';
import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { CatalogChanges } from '@berth/catalog';
import { ChangeFeed } from '@berth/database';

/** A public page as sent: the same bytes for every visitor, with its validator. */
export interface RenderedPage {
  html: string;
  etag: string;
}

interface Entry {
  page: RenderedPage;
  bytes: number;
  expiresAt: number;
}

/**
 * How long a rendered page is served before it is rendered again even without a catalog notice: what a
 * page shows beside the catalog (download counts, flushed every 10 s; publisher names; "a license bought
 * today") may lag this much. Browsers may already keep a page 60 s (`max-age`).
 */
export const RENDERED_PAGE_TTL_MS = 10_000;
/** Budget of the cache: pages are 10-60 KB, so this holds the pages people actually open. */
export const RENDERED_PAGES_MAX_BYTES = 16 * 1024 * 1024;
const MAX_ENTRIES = 2_000;

/** A weak validator: the bytes are the same for everyone while they are cached. */
export const pageEtag = (html: string): string =>
  `W/"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"`;

/**
 * The anonymous pages (home, search, chart, publisher) as rendered, shared by every visitor. A page costs
 * several queries and a Markdown render; the same page is asked for again and again. Any catalog notice
 * drops every page (a change can move a chart on the home page, in every search and on its own page),
 * and so does a publisher notice (its name and logo are on all of them), entries expire after RENDERED_PAGE_TTL_MS, concurrent misses of one page render it once, and nothing is
 * kept while catalog notices are not heard (another replica's change would go unseen).
 */
@Injectable()
export class RenderedPages implements OnModuleInit {
  private readonly entries = new Map<string, Entry>();
  private readonly rendering = new Map<string, Promise<RenderedPage | null>>();
  private bytes = 0;
  /** Bumped by every notice: a render that started before one is not kept. */
  private generation = 0;
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    private readonly changes: CatalogChanges,
    /** Publisher notices (a name or logo changed, an account closed): every page may show the publisher. */
    @Optional() private readonly feed?: ChangeFeed,
  ) {}

  onModuleInit(): void {
    this.changes.subscribe(() => this.clear());
    this.feed?.subscribe('publishers', () => this.clear());
  }

  /** The page under `key`, rendered by `render` when not cached; null (not kept) for a page that is not there. */
  async get(key: string, render: () => Promise<string | null>): Promise<RenderedPage | null> {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > Date.now() && this.changes.live) {
      this.stats.hits++;
      // Most recently used last: eviction takes from the front.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.page;
    }
    this.stats.misses++;
    const pending = this.rendering.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const work = render()
      .then((html) => {
        if (html === null) return null;
        const page = { html, etag: pageEtag(html) };
        if (generation === this.generation && this.changes.live) this.keep(key, page);
        return page;
      })
      .finally(() => {
        if (this.rendering.get(key) === work) this.rendering.delete(key);
      });
    this.rendering.set(key, work);
    return work;
  }

  clear(): void {
    this.generation++;
    // Renders under way started before the change: later visitors must not wait for their result.
    this.rendering.clear();
    this.entries.clear();
    this.bytes = 0;
  }

  private keep(key: string, page: RenderedPage): void {
    const bytes = Buffer.byteLength(page.html) + key.length;
    if (bytes > RENDERED_PAGES_MAX_BYTES / 4) return;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    while (
      this.entries.size &&
      (this.bytes + bytes > RENDERED_PAGES_MAX_BYTES || this.entries.size >= MAX_ENTRIES)
    ) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldestKey);
      this.bytes -= oldest.bytes;
    }
    this.entries.set(key, { page, bytes, expiresAt: Date.now() + RENDERED_PAGE_TTL_MS });
    this.bytes += bytes;
  }
}
