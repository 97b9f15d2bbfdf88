import { Injectable } from '@nestjs/common';
import { PublisherQuota } from '@berth/catalog';
import { returnedRows } from '@berth/database';
import { DataSource, EntityManager } from 'typeorm';
import { OciRepositoryEntity } from './entities';
import { RepositoryName } from './names';
import { RegistryReadCache } from './read-cache';

export interface Repository {
  id: string;
  name: string;
  publisherId: string;
}

export interface StoredBlob {
  digest: string;
  size: number;
  blobKey: string;
}

/** Repositories, blob records and their links: the rows every registry operation starts from. */
@Injectable()
export class Repositories {
  constructor(
    private readonly dataSource: DataSource,
    private readonly quota: PublisherQuota,
    private readonly cache: RegistryReadCache,
  ) {}

  async find(name: string): Promise<Repository | null> {
    const kept = this.cache.repositories.get(name);
    if (kept) return kept;
    const row = await this.dataSource
      .getRepository(OciRepositoryEntity)
      .findOne({ where: { name }, select: { id: true, name: true, publisherId: true } });
    if (!row) return null;
    const repo = { id: row.id, name: row.name, publisherId: row.publisherId };
    this.cache.repositories.set(name, repo);
    return repo;
  }

  /** The repository, created on first use (a push, or the first pull of a catalog chart). */
  async ensure(name: RepositoryName, publisherId: string): Promise<Repository> {
    await this.dataSource.query(
      `INSERT INTO oci_repository (publisher_id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
      [publisherId, name.full],
    );
    const repo = await this.find(name.full);
    if (!repo) throw new Error('repository vanished right after its creation');
    return repo;
  }

  /** A blob of the publisher linked into the repository, or null (never another publisher's). */
  async linkedBlob(repo: Repository, digest: string): Promise<StoredBlob | null> {
    const [row] = (await this.dataSource.query(
      `SELECT b.digest, b.size::text AS size, b.blob_key FROM oci_repository_blob l
         JOIN oci_blob b ON b.publisher_id = $2 AND b.digest = l.digest
        WHERE l.repository_id = $1 AND l.digest = $3`,
      [repo.id, repo.publisherId, digest],
    )) as Array<{ digest: string; size: string; blob_key: string }>;
    return row ? { digest: row.digest, size: Number(row.size), blobKey: row.blob_key } : null;
  }

  /** Which of the digests are not linked into the repository. */
  async unlinked(repositoryId: string, digests: string[]): Promise<string[]> {
    if (!digests.length) return [];
    const rows: Array<{ digest: string }> = await this.dataSource.query(
      'SELECT digest FROM oci_repository_blob WHERE repository_id = $1 AND digest = ANY($2::varchar[])',
      [repositoryId, digests],
    );
    const have = new Set(rows.map((r) => r.digest));
    return [...new Set(digests)].filter((d) => !have.has(d));
  }

  /**
   * Records bytes already in the blob store as the publisher's blob and links it into the repository.
   * Returns false when the publisher held that digest already (the caller's copy is then surplus); a new
   * blob counts against the publisher's quota in the same transaction.
   */
  async recordBlob(
    repo: Repository,
    blob: StoredBlob,
    opts: { quota: boolean } = { quota: true },
    manager?: EntityManager,
  ): Promise<boolean> {
    const work = async (m: EntityManager) => {
      const inserted = returnedRows(
        await m.query(
          `INSERT INTO oci_blob (publisher_id, digest, size, blob_key) VALUES ($1, $2, $3, $4)
         ON CONFLICT (publisher_id, digest) DO NOTHING RETURNING digest`,
          [repo.publisherId, blob.digest, blob.size, blob.blobKey],
        ),
      );
      await this.link(m, repo.id, blob.digest);
      if (inserted.length && opts.quota) await this.quota.reserve(m, repo.publisherId, blob.size);
      return inserted.length > 0;
    };
    return manager ? work(manager) : this.dataSource.transaction(work);
  }

  /** A blob the publisher already holds, by digest (for mounts and for pushes of known bytes). */
  async publisherBlob(publisherId: string, digest: string): Promise<StoredBlob | null> {
    const [row] = (await this.dataSource.query(
      'SELECT digest, size::text AS size, blob_key FROM oci_blob WHERE publisher_id = $1 AND digest = $2',
      [publisherId, digest],
    )) as Array<{ digest: string; size: string; blob_key: string }>;
    return row ? { digest: row.digest, size: Number(row.size), blobKey: row.blob_key } : null;
  }

  async link(m: EntityManager, repositoryId: string, digest: string): Promise<void> {
    await m.query(
      `INSERT INTO oci_repository_blob (repository_id, digest) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [repositoryId, digest],
    );
  }

  async unlink(repositoryId: string, digest: string): Promise<boolean> {
    const rows: unknown = await this.dataSource.query(
      'DELETE FROM oci_repository_blob WHERE repository_id = $1 AND digest = $2 RETURNING digest',
      [repositoryId, digest],
    );
    return returnedRows(rows).length > 0;
  }
}
