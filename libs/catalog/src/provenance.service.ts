import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';
import { DataSource } from 'typeorm';
import YAML from 'yaml';
import { CatalogChanges } from './catalog-changes';
import { chartFileCandidates } from './chart-file-name';
import { ChartEntity, ChartVersionEntity } from './entities';
import { MAX_PROVENANCE_BYTES } from './provenance-limits';
import { CommitOutcomeUnknown, PublisherQuota, runTransaction } from './stored-bytes';
import { CatalogErrors } from './errors';

/**
 * Helm provenance files (`helm package --sign`): a PGP clear-signed message holding Chart.yaml, a
 * `...` separator and `files: {<name>-<version>.tgz: sha256:<hex>}`. Like ChartMuseum, the store keeps
 * and serves them; the buyer's `helm --verify` checks the signature against the publisher's key.
 */
@Injectable()
export class ProvenanceService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly changes: CatalogChanges,
    private readonly quota: PublisherQuota,
  ) {}

  parse(prov: Buffer): { file: string; sha256: string } {
    const bad = (why: string) => CatalogErrors.ProvenanceInvalid(`The provenance file is invalid: ${why}.`);
    if (prov.length === 0 || prov.length > MAX_PROVENANCE_BYTES) throw bad('empty or too large');
    const text = prov.toString('utf8');
    const begin = text.indexOf('-----BEGIN PGP SIGNED MESSAGE-----');
    const sig = text.indexOf('-----BEGIN PGP SIGNATURE-----');
    if (begin < 0 || sig < begin) throw bad('not a PGP signed message');
    const body = text.slice(text.indexOf('\n\n', begin) + 2, sig);
    const parts = body.split(/\r?\n\.\.\.\r?\n/);
    if (parts.length < 2) throw bad('no files section');
    let files: unknown;
    try {
      files = (YAML.parse(parts[parts.length - 1], { maxAliasCount: 10 }) as { files?: unknown })?.files;
    } catch {
      throw bad('the files section is not YAML');
    }
    const entries =
      files && typeof files === 'object' ? Object.entries(files as Record<string, unknown>) : [];
    if (entries.length !== 1) throw bad('it must name exactly one chart archive');
    const [file, sum] = entries[0];
    const m = typeof sum === 'string' ? /^sha256:([a-f0-9]{64})$/.exec(sum) : null;
    if (!m || !file.endsWith('.tgz')) throw bad('the files section has no sha256 of a .tgz');
    return { file, sha256: m[1] };
  }

  /** A provenance uploaded together with its chart must name that very archive. */
  assertMatches(prov: Buffer, chart: { name: string; version: string }, archive: Buffer): void {
    const p = this.parse(prov);
    const digest = createHash('sha256').update(archive).digest('hex');
    if (p.file !== `${chart.name}-${chart.version}.tgz` || p.sha256 !== digest) {
      throw CatalogErrors.ProvenanceInvalid('The provenance file does not match the uploaded chart.');
    }
  }

  /** `POST /api/{slug}/prov`: attach a provenance file to a stored version; answers which one. */
  async attach(publisherId: string, prov: Buffer): Promise<{ name: string; version: string }> {
    const p = this.parse(prov);
    const candidates = chartFileCandidates(p.file.slice(0, -'.tgz'.length));
    let target: ChartVersionEntity | null = null;
    let chart = '';
    for (const c of candidates) {
      chart = c.name;
      target = await this.dataSource
        .getRepository(ChartVersionEntity)
        .createQueryBuilder('v')
        .innerJoin(ChartEntity, 'c', 'c.id = v.chart_id')
        .where('c.publisher_id = :publisherId AND c.name = :name AND v.version = :version', {
          publisherId,
          ...c,
        })
        .getOne();
      if (target) break;
    }
    if (!target)
      throw CatalogErrors.ChartVersionNotFound(`No chart version ${p.file} to attach this provenance to.`);
    if (target.digest !== p.sha256) {
      throw CatalogErrors.ProvenanceInvalid('The provenance file does not match the stored chart archive.');
    }
    if (target.provBlobKey) throw CatalogErrors.ProvenanceExists(p.file);
    // A fresh key per attempt: two racing attaches never overwrite each other's bytes, and the loser's
    // blob is deleted (or swept) without touching the winner's.
    const key = `${target.blobKey}.${randomUUID()}.prov`;
    await this.quota.assertRoom(publisherId, prov.length);
    await this.blobs.put(key, prov, { contentType: 'application/pgp-signature' });
    const id = target.id;
    // Announced with the update: cached file lookups on every replica must learn the new .prov.
    let updated: { affected?: number | null };
    try {
      updated = await runTransaction(this.dataSource, async (m) => {
        const r = await m
          .getRepository(ChartVersionEntity)
          .createQueryBuilder()
          .update()
          .set({ provBlobKey: key, provSize: prov.length })
          .where('id = :id AND prov_blob_key IS NULL', { id })
          .execute();
        if (r.affected) {
          await this.changes.announce(m, publisherId, chart);
          await this.quota.reserve(m, publisherId, prov.length);
        }
        return r;
      });
    } catch (error) {
      // Not committed (whatever was thrown): the blob goes now. A lost COMMIT answer leaves it to the sweeper.
      if (!(error instanceof CommitOutcomeUnknown)) await this.blobs.delete(key).catch(() => undefined);
      throw error instanceof CommitOutcomeUnknown ? error.cause : error;
    }
    if (!updated.affected) {
      await this.blobs.delete(key).catch(() => undefined);
      throw CatalogErrors.ProvenanceExists(p.file);
    }
    this.changes.committed(publisherId, chart);
    return { name: chart, version: target.version };
  }
}
