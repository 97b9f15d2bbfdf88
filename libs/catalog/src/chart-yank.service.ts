import { Injectable } from '@nestjs/common';
import { notFound } from '@berth/common';
import { DataSource } from 'typeorm';
import { ChartEntity, ChartVersionEntity } from './entities';
import { CatalogErrorCode } from './errors';

/**
 * ChartMuseum's DELETE, made safe for paid software: the version leaves every index but its bytes stay,
 * because buyers who hold a license for it may still pull it. The version number stays taken.
 */
@Injectable()
export class ChartYankService {
  constructor(private readonly dataSource: DataSource) {}

  async yank(publisherId: string, name: string, version: string): Promise<void> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(ChartVersionEntity)
      .set({ yankedAt: () => 'now()' })
      .where(
        `version = :version AND yanked_at IS NULL AND chart_id IN (SELECT id FROM ${this.dataSource.getMetadata(ChartEntity).tableName} WHERE publisher_id = :publisherId AND name = :name)`,
        { publisherId, name, version },
      )
      .execute();
    if (!result.affected) throw notFound(CatalogErrorCode.ChartVersionNotFound, `No version ${version} of chart ${name}.`);
  }
}
