import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DataSource } from 'typeorm';
import { LicenseEntity } from './entities';

/**
 * License rows by id, trusted for at most LICENSE_STATUS_CACHE_SECONDS. This is the revocation
 * propagation bound: a revocation on one replica is enforced on every other within it. Changes made
 * on this replica clear the cache at once. Bounded in size.
 */
@Injectable()
export class LicenseStatusCache {
  private readonly entries = new Map<string, { row: LicenseEntity | null; at: number }>();
  private readonly maxEntries = 50_000;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async get(id: string): Promise<LicenseEntity | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
    const ttl = this.config.licensing.statusCacheSeconds * 1000;
    const hit = this.entries.get(id);
    if (hit && Date.now() - hit.at < ttl) return hit.row;
    const row = await this.dataSource.getRepository(LicenseEntity).findOne({ where: { id } });
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(id, { row, at: Date.now() });
    return row;
  }

  invalidateAll(): void {
    this.entries.clear();
  }
}
