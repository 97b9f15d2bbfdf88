import { Injectable } from '@nestjs/common';
import { ChangeFeed, CHANGES_MISSED } from '@berth/database';
import { EntityManager } from 'typeorm';

/** One chart of one publisher changed (a version, a yank, its listing); or, `all`, anything may have. */
export type CatalogChange = { publisherId: string; chart: string } | 'all';

/**
 * Catalog change notices on the change feed, so every replica's rendered index can drop exactly the
 * chart that changed. Publisher ids are UUIDs and chart names DNS labels: `/` separates them safely.
 */
@Injectable()
export class CatalogChanges {
  constructor(private readonly feed: ChangeFeed) {}

  /** Inside the change's transaction: other replicas hear of it when, and only if, it commits. */
  announce(m: EntityManager, publisherId: string, chart: string): Promise<void> {
    return this.feed.publish('catalog', `${publisherId}/${chart}`, m);
  }

  /** After the commit: this replica's readers see the change with the response that reports it. */
  committed(publisherId: string, chart: string): void {
    this.feed.announceLocally('catalog', `${publisherId}/${chart}`);
  }

  /** Whether notices are heard right now; while they are not, nothing cached may be trusted. */
  get live(): boolean {
    return this.feed.connected;
  }

  subscribe(handler: (change: CatalogChange) => void): () => void {
    return this.feed.subscribe('catalog', (payload) => {
      if (payload === CHANGES_MISSED || typeof payload !== 'string') return handler('all');
      const i = payload.indexOf('/');
      handler(i > 0 ? { publisherId: payload.slice(0, i), chart: payload.slice(i + 1) } : 'all');
    });
  }
}
