import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogChanges } from './catalog-changes';
import { CatalogErrors } from './errors';

/**
 * ChartMuseum's DELETE, made safe for paid software: the version leaves every index but its bytes stay,
 * because buyers who hold a license for it may still pull it. The version number stays taken.
 */
@Injectable()
export class ChartYankService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly changes: CatalogChanges,
  ) {}

  async yank(publisherId: string, name: string, version: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      // TypeORM answers an UPDATE on Postgres with [rows, affectedCount].
      const [, affected] = (await m.query(
        `UPDATE chart_version SET yanked_at = now()
          WHERE version = $1 AND yanked_at IS NULL
            AND chart_id = (SELECT id FROM chart WHERE publisher_id = $2 AND name = $3)`,
        [version, publisherId, name],
      )) as [unknown, number];
      if (!affected) throw CatalogErrors.ChartVersionNotFound(`No version ${version} of chart ${name}.`);
      await this.changes.announce(m, publisherId, name);
    });
    this.changes.committed(publisherId, name);
  }
}
