import { Injectable } from '@nestjs/common';

/** A bounded map whose entries expire: the oldest go first when it is full. */
export class ExpiringMap<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
  }

  deleteWhere(match: (key: K) => boolean): void {
    for (const key of this.entries.keys()) if (match(key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** How long a replica trusts what it read: another replica's tag move or delete shows within this. */
export const REGISTRY_READ_TTL_MS = 5_000;

/**
 * What every pull asks again and again, kept briefly: repositories by name, manifests by reference, linked
 * blobs, and who may see which manifest or blob. Absences are never kept, so what another replica just
 * pushed is pullable here at once; a tag another replica moved or deleted shows within
 * REGISTRY_READ_TTL_MS, and this replica's own writes, recorded releases and catalog changes drop what they
 * change at once. A license's own state is not kept here (its verification has its own cache, which a
 * revocation clears), so revocation is never delayed by it.
 */
@Injectable()
export class RegistryReadCache {
  readonly repositories = new ExpiringMap<string, { id: string; name: string; publisherId: string }>(
    REGISTRY_READ_TTL_MS,
    10_000,
  );
  /** `<repository id> <tag or digest>` → the manifest row (never an absence: pushes show at once). */
  readonly manifests = new ExpiringMap<
    string,
    { digest: string; mediaType: string; body: Buffer; chartVersionId: string | null }
  >(REGISTRY_READ_TTL_MS, 5_000);
  /** `<repository id> <digest>` → the linked blob, and the chart version whose archive it is (if any). */
  readonly blobs = new ExpiringMap<
    string,
    {
      blob: { digest: string; size: number; blobKey: string } | null;
      chart?: { chartId: string; version: string } | null;
    }
  >(REGISTRY_READ_TTL_MS, 20_000);
  /**
   * `<repository id> <manifest digest>` → the chart versions whose releases resolved to it, for counting
   * image pulls: a release recorded meanwhile is counted within REGISTRY_READ_TTL_MS.
   */
  readonly releases = new ExpiringMap<string, Array<{ chartId: string; version: string }>>(
    REGISTRY_READ_TTL_MS,
    20_000,
  );
  /** `<viewer> <repository id> <manifest|blob> <digest>` → visible. */
  readonly visible = new ExpiringMap<string, boolean>(REGISTRY_READ_TTL_MS, 50_000);

  /** After a write to a repository on this replica. */
  changed(repositoryId: string): void {
    const prefix = `${repositoryId} `;
    this.manifests.deleteWhere((k) => k.startsWith(prefix));
    this.blobs.deleteWhere((k) => k.startsWith(prefix));
    this.releases.deleteWhere((k) => k.startsWith(prefix));
    this.visible.deleteWhere((k) => k.includes(` ${prefix}`));
  }

  /** After anything that may change many repositories (a release recorded, an account closed). */
  changedAll(): void {
    this.repositories.clear();
    this.manifests.clear();
    this.blobs.clear();
    this.visible.clear();
    this.releases.clear();
  }
}
