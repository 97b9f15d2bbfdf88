import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ChangeFeed, CHANGES_MISSED } from '@berth/database';
import { EntityManager } from 'typeorm';

/** One chart of one publisher changed (a version, a yank, its listing); or, `all`, anything may have. */
export type CatalogChange = { publisherId: string; chart: string } | 'all';

/** How many change ids a replica remembers (announced and not yet committed; applied locally). */
const REMEMBERED = 10_000;

/**
 * Catalog change notices on the change feed, so every replica's rendered index can drop exactly the
 * chart that changed. Publisher ids are UUIDs and chart names DNS labels: `/` separates them safely.
 *
 * Each notice carries a random id. The replica that made a change applies it locally right after its
 * commit (`committed`), and its own notice then comes back through Postgres: that echo is recognised by
 * its id and dropped, so a reader between the two does not render the same chart twice.
 */
@Injectable()
export class CatalogChanges {
  /** Ids announced in transactions of this replica, per chart, oldest first, until `committed`. */
  private readonly announced = new Map<string, string[]>();
  /** Ids this replica applied locally whose echo from Postgres has not arrived yet. */
  private readonly appliedLocally = new Set<string>();

  constructor(private readonly feed: ChangeFeed) {}

  /** Inside the change's transaction: other replicas hear of it when, and only if, it commits. */
  announce(m: EntityManager, publisherId: string, chart: string): Promise<void> {
    const key = `${publisherId}/${chart}`;
    const id = randomBytes(8).toString('base64url');
    const ids = this.announced.get(key) ?? [];
    ids.push(id);
    this.announced.set(key, ids);
    // Transactions that roll back never reach `committed`: keep the map bounded.
    if (this.announced.size > REMEMBERED) this.announced.delete(this.announced.keys().next().value as string);
    return this.feed.publish('catalog', `${key}#${id}`, m);
  }

  /** After the commit: this replica's readers see the change with the response that reports it. */
  committed(publisherId: string, chart: string): void {
    const key = `${publisherId}/${chart}`;
    const ids = this.announced.get(key);
    const id = ids?.shift();
    if (ids && !ids.length) this.announced.delete(key);
    if (id) {
      this.appliedLocally.add(id);
      if (this.appliedLocally.size > REMEMBERED)
        this.appliedLocally.delete(this.appliedLocally.values().next().value as string);
    }
    this.feed.announceLocally('catalog', id ? `${key}#${id}#local` : key);
  }

  /** Whether notices are heard right now; while they are not, nothing cached may be trusted. */
  get live(): boolean {
    return this.feed.connected;
  }

  subscribe(handler: (change: CatalogChange) => void): () => void {
    return this.feed.subscribe('catalog', (payload) => {
      if (payload === CHANGES_MISSED || typeof payload !== 'string') return handler('all');
      const [key, id, local] = payload.split('#');
      // The echo of a change this replica already applied after its commit.
      if (id && !local && this.appliedLocally.delete(id)) return;
      const i = key.indexOf('/');
      handler(i > 0 ? { publisherId: key.slice(0, i), chart: key.slice(i + 1) } : 'all');
    });
  }
}
