import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RegistryReadCache } from './read-cache';

/**
 * A publisher's registry content, removed in the transaction that closes its account: repositories,
 * manifests, tags, links, sessions, blob records and its releases' images. The bytes under `oci/` then
 * belong to no record and go with RegistryJanitor's next orphan sweep.
 */
@Injectable()
export class PublisherRegistryRemoval {
  constructor(private readonly cache: RegistryReadCache) {}

  async removeAll(m: EntityManager, publisherId: string, slug: string): Promise<void> {
    const repos = `(SELECT id FROM oci_repository WHERE publisher_id = $1)`;
    await m.query(`DELETE FROM oci_tag WHERE repository_id IN ${repos}`, [publisherId]);
    await m.query(`DELETE FROM oci_manifest_reference WHERE repository_id IN ${repos}`, [publisherId]);
    await m.query(`DELETE FROM oci_manifest WHERE repository_id IN ${repos}`, [publisherId]);
    await m.query(`DELETE FROM oci_repository_blob WHERE repository_id IN ${repos}`, [publisherId]);
    await m.query('DELETE FROM oci_upload WHERE publisher_id = $1', [publisherId]);
    await m.query('DELETE FROM oci_blob WHERE publisher_id = $1', [publisherId]);
    await m.query('DELETE FROM oci_repository WHERE publisher_id = $1', [publisherId]);
    await m.query(`DELETE FROM oci_release_image WHERE repository_name LIKE $1`, [`${slug}/%`]);
    this.cache.changedAll();
  }
}
