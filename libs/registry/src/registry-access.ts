import { Injectable } from '@nestjs/common';
import { API_TOKEN_PREFIX, ApiTokenService, credentialFromAuthorization } from '@berth/accounts';
import { ChartQueryService, VersionAccessRef } from '@berth/catalog';
import { DomainError, ErrorKind } from '@berth/common';
import { covers, Entitlement, LICENSE_KEY_PREFIX, LicenseService } from '@berth/licensing';
import { DataSource } from 'typeorm';
import { RegistryErrors } from './errors';
import { RepositoryName } from './names';
import { RegistryReadCache } from './read-cache';

/** Who is asking: nobody, a publisher's API token, or a buyer's license. */
export type RegistryCaller =
  | { kind: 'anonymous' }
  | { kind: 'publisher'; publisherId: string; slug: string; canPush: boolean }
  | { kind: 'license'; licenseId: string; slug: string; chartId: string; entitlement: Entitlement };

/**
 * Who may pull a chart version's artifacts: the licenses that cover it (yanked or unpublished since, as
 * the classic repository keeps them), and anyone while it is a published free version that is not yanked.
 */
export function mayPull(caller: RegistryCaller, v: VersionAccessRef): boolean {
  if (caller.kind === 'license' && caller.chartId === v.chartId && covers(caller.entitlement, v)) return true;
  return v.published && v.free && !v.yankedAt;
}

/**
 * The chart versions whose release makes a manifest reachable: the version the manifest is (a chart
 * pushed or uploaded), or whose release names it, directly or as a child of an index it names.
 */
const RELEASES_OF_MANIFESTS = `
  WITH RECURSIVE up(digest, depth) AS (
    SELECT unnest($2::varchar[]), 0
    UNION
    SELECT r.manifest_digest, up.depth + 1 FROM oci_manifest_reference r JOIN up ON r.child_digest = up.digest
     WHERE r.repository_id = $1 AND r.kind = 'manifest' AND up.depth < 4
  )
  SELECT m.chart_version_id AS id FROM up
    JOIN oci_manifest m ON m.repository_id = $1 AND m.digest = up.digest
   WHERE m.chart_version_id IS NOT NULL
  UNION
  SELECT ri.chart_version_id FROM up
    JOIN oci_release_image ri ON ri.repository_name = $3 AND ri.manifest_digest = up.digest
  LIMIT 200`;

/** What a viewer sees depends on this only: anonymous, or a license's chart and entitlement. */
function viewerKey(caller: RegistryCaller): string {
  if (caller.kind === 'license') {
    return `lic:${caller.chartId}:${caller.entitlement.versionRange}:${caller.entitlement.updatesUntil?.getTime() ?? '-'}`;
  }
  return caller.kind === 'publisher' ? `pub:${caller.slug}` : 'anon';
}

/** Resolves credentials and decides, object by object, what a caller may see. */
@Injectable()
export class RegistryAccess {
  constructor(
    private readonly dataSource: DataSource,
    private readonly apiTokens: ApiTokenService,
    private readonly licenses: LicenseService,
    private readonly charts: ChartQueryService,
    private readonly cache: RegistryReadCache,
  ) {}

  /**
   * Basic only: `<license id>:<license key>`, or any user name with a publisher API token as password.
   * Anything else presented is a 401; a revoked or suspended license presented correctly is a 403.
   */
  async caller(authorization: string | undefined): Promise<RegistryCaller> {
    if (!authorization) return { kind: 'anonymous' };
    const [scheme] = authorization.split(/\s+/, 1);
    const secret = credentialFromAuthorization(authorization);
    if (!/^basic$/i.test(scheme) || !secret) throw RegistryErrors.RegistryCredentialsInvalid();
    if (secret.startsWith(LICENSE_KEY_PREFIX)) {
      const decoded = Buffer.from(authorization.split(/\s+/)[1] ?? '', 'base64').toString('utf8');
      const username = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
      const result = await this.licenses.verify(secret);
      if (!result.license || result.license.id !== username)
        throw RegistryErrors.RegistryCredentialsInvalid();
      if (!result.valid) {
        if (result.reason === 'revoked' || result.reason === 'suspended') {
          throw RegistryErrors.RegistryLicenseInactive(result.reason);
        }
        throw RegistryErrors.RegistryCredentialsInvalid();
      }
      return {
        kind: 'license',
        licenseId: result.license.id,
        slug: result.license.publisher,
        chartId: result.license.chartId,
        entitlement: result.entitlement,
      };
    }
    if (!secret.startsWith(API_TOKEN_PREFIX)) throw RegistryErrors.RegistryCredentialsInvalid();
    try {
      const token = await this.apiTokens.authenticate(secret);
      return {
        kind: 'publisher',
        publisherId: token.publisherId,
        slug: token.publisherSlug,
        canPush: token.scopes.includes('charts:write'),
      };
    } catch (e) {
      if (e instanceof DomainError && e.kind !== ErrorKind.Unavailable) {
        throw RegistryErrors.RegistryCredentialsInvalid();
      }
      throw e;
    }
  }

  /** Pushing, deleting and mounting: the publisher's own token with `charts:write`, nobody else. */
  assertPush(caller: RegistryCaller, name: RepositoryName): void {
    if (caller.kind === 'anonymous') throw RegistryErrors.RegistryCredentialsRequired();
    if (caller.kind !== 'publisher' || caller.slug !== name.publisher || !caller.canPush) {
      throw RegistryErrors.RegistryPushDenied();
    }
  }

  /** The publisher reading its own repositories sees everything in them. */
  ownsRepository(caller: RegistryCaller, name: RepositoryName): boolean {
    return caller.kind === 'publisher' && caller.slug === name.publisher;
  }

  /**
   * What a caller that may not see something gets: an anonymous caller the challenge (so that clients
   * holding credentials send them), everyone else a 404 exactly like absence.
   */
  hidden(caller: RegistryCaller, notFound: () => DomainError): DomainError {
    return caller.kind === 'anonymous' ? RegistryErrors.RegistryCredentialsRequired() : notFound();
  }

  /** Whether any of the manifests (in one repository) is reachable for a caller who does not own it. */
  async manifestsVisible(
    caller: RegistryCaller,
    repository: { id: string; name: string },
    digests: string[],
  ): Promise<boolean> {
    if (!digests.length) return false;
    const key = digests.length === 1 ? `${viewerKey(caller)} ${repository.id} m ${digests[0]}` : null;
    const kept = key ? this.cache.visible.get(key) : undefined;
    if (kept !== undefined) return kept;
    const visible = await this.computeManifestsVisible(caller, repository, digests);
    if (key) this.cache.visible.set(key, visible);
    return visible;
  }

  private async computeManifestsVisible(
    caller: RegistryCaller,
    repository: { id: string; name: string },
    digests: string[],
  ): Promise<boolean> {
    const rows: Array<{ id: string }> = await this.dataSource.query(RELEASES_OF_MANIFESTS, [
      repository.id,
      digests,
      repository.name,
    ]);
    const refs = await this.charts.accessRefs(rows.map((r) => r.id));
    return refs.some((v) => mayPull(caller, v));
  }

  /** Whether a blob is reachable: some manifest of the repository that references it is. */
  async blobVisible(
    caller: RegistryCaller,
    repository: { id: string; name: string },
    digest: string,
  ): Promise<boolean> {
    const key = `${viewerKey(caller)} ${repository.id} b ${digest}`;
    const kept = this.cache.visible.get(key);
    if (kept !== undefined) return kept;
    const parents: Array<{ manifest_digest: string }> = await this.dataSource.query(
      `SELECT manifest_digest FROM oci_manifest_reference
        WHERE repository_id = $1 AND child_digest = $2 AND kind = 'blob' LIMIT 200`,
      [repository.id, digest],
    );
    const visible = await this.manifestsVisible(
      caller,
      repository,
      parents.map((p) => p.manifest_digest),
    );
    this.cache.visible.set(key, visible);
    return visible;
  }
}
