import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { ChangeFeed } from '@berth/database';
import { DataSource } from 'typeorm';
import { LicenseEntity } from './entities';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * License rows by id, so repeated pulls cost a map lookup, not a query. A change to a license on any
 * replica is announced on the change feed when its transaction commits and drops the entry everywhere:
 * that notice, not the TTL, is how revocation propagates. LICENSE_STATUS_CACHE_SECONDS only bounds how
 * long an entry lives should a notice be lost; while the feed's listener is down nothing is cached.
 * Bounded in size (oldest first out).
 */
@Injectable()
export class LicenseStatusCache implements OnModuleInit {
  private readonly entries = new Map<string, { row: LicenseEntity | null; at: number }>();
  private readonly maxEntries = 50_000;
  /** Bumped by every invalidation: a read that started before one must not store what it read. */
  private generation = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly changes: ChangeFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.changes.subscribe('licenses', (id) =>
      typeof id === 'string' && id ? this.invalidate(id) : this.invalidateAll(),
    );
  }

  /** What get() would answer without a query, or undefined when it would need one. */
  peek(id: string): LicenseEntity | null | undefined {
    const hit = this.entries.get(id);
    if (
      !hit ||
      Date.now() - hit.at >= this.config.licensing.statusCacheSeconds * 1000 ||
      !this.changes.connected
    )
      return undefined;
    return hit.row;
  }

  async get(id: string): Promise<LicenseEntity | null> {
    if (!UUID.test(id)) return null;
    const hit = this.peek(id);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const row = await this.dataSource.getRepository(LicenseEntity).findOne({ where: { id } });
    if (generation === this.generation && this.changes.connected) {
      this.entries.delete(id);
      if (this.entries.size >= this.maxEntries)
        this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(id, { row, at: Date.now() });
    }
    return row;
  }

  invalidate(id: string): void {
    this.generation += 1;
    this.entries.delete(id);
  }

  invalidateAll(): void {
    this.generation += 1;
    this.entries.clear();
  }
}
