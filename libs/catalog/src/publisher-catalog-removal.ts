import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CatalogChanges } from './catalog-changes';
import { ChartEntity } from './entities';
import { PublisherQuota } from './stored-bytes';

/**
 * Removes a publisher's whole catalog when its account closes: charts, their versions and listings
 * (ON DELETE CASCADE), announced chart by chart so every index drops them on commit. The stored
 * archives lose their rows and are left to the OrphanBlobSweeper, like the bytes of a crashed upload.
 */
@Injectable()
export class PublisherCatalogRemoval {
  constructor(
    private readonly changes: CatalogChanges,
    private readonly quota: PublisherQuota,
  ) {}

  /** Inside the closing transaction; returns the chart names for `committed`. */
  async removeAll(m: EntityManager, publisherId: string): Promise<string[]> {
    const charts = await m.find(ChartEntity, { where: { publisherId }, select: { id: true, name: true } });
    await this.quota.forget(m, publisherId);
    if (!charts.length) return [];
    await m.delete(ChartEntity, { publisherId });
    for (const c of charts) await this.changes.announce(m, publisherId, c.name);
    return charts.map((c) => c.name);
  }

  /** After the commit: this replica's caches forget the charts with the response. */
  committed(publisherId: string, charts: string[]): void {
    for (const name of charts) this.changes.committed(publisherId, name);
  }
}
