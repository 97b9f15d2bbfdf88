import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { keysetPage, ListFilter } from '@berth/common';
import jwt from 'jsonwebtoken';
import { ChangeFeed } from '@berth/database';
import { DataSource, EntityManager, IsNull, Not } from 'typeorm';
import { LicenseEntity } from './entities';
import { LicenseInvalidReason, LicensingErrors } from './errors';
import { LicenseStatusCache } from './license-status-cache';
import { SigningKeysService } from './signing-keys.service';
import { VerifiedClaims, VerifiedKeyCache } from './verified-key-cache';
import { covers, Entitlement, entitlementFor, UpdatePolicy } from './update-policy';

/** Recognisable prefix so secret scanners can find leaked license keys. */
export const LICENSE_KEY_PREFIX = 'berth_lic_';
const MAX_KEY_LENGTH = 4096;

export interface IssueLicenseInput {
  orderId: string | null;
  publisherId: string;
  publisherSlug: string;
  chartId: string;
  chartName: string;
  buyerEmail: string;
  policy: UpdatePolicy;
  newestStable: string | null;
  /** A complimentary license may name its own range. */
  versionRange?: string;
}

export type LicenseStatus = 'active' | 'suspended' | 'revoked';

export interface LicenseView {
  id: string;
  publisherId: string;
  orderId: string | null;
  publisher: string;
  chart: string;
  chartId: string;
  buyerEmail: string;
  versionRange: string;
  updatesUntil: Date | null;
  issuedAt: Date;
  expiresAt: Date | null;
  status: LicenseStatus;
  reason: string | null;
  /** The publisher's words to the holder about a revocation (plain text), if it gave any. */
  publisherNote: string | null;
  /** Which key is current: keys minted for an earlier generation are refused (see rotateKey). */
  keyGeneration: number;
  /** When it was revoked (for the publisher's customer timeline), null while it is not. */
  revokedAt: Date | null;
}

/** Filters of the publisher's license list (`from`/`to` on the issue time). */
export interface LicenseFilter extends ListFilter {
  status?: LicenseStatus;
}

export interface LicensePage {
  licenses: LicenseView[];
  /** Null on the last page. */
  nextCursor: string | null;
}

export interface LicenseClaims {
  sub: string;
  pub: string;
  chart: string;
  range: string;
  upd: string | null;
}

export type VerifiedLicense =
  | { valid: true; license: LicenseView; entitlement: Entitlement }
  | { valid: false; reason: LicenseInvalidReason; license?: LicenseView };

const statusOf = (l: LicenseEntity): LicenseStatus =>
  l.revokedAt ? 'revoked' : l.suspendedAt ? 'suspended' : 'active';

export const toLicenseView = (l: LicenseEntity): LicenseView => ({
  id: l.id,
  publisherId: l.publisherId,
  orderId: l.orderId,
  publisher: l.publisherSlug,
  chart: l.chartName,
  chartId: l.chartId,
  buyerEmail: l.buyerEmail,
  versionRange: l.versionRange,
  updatesUntil: l.updatesUntil,
  issuedAt: l.issuedAt,
  expiresAt: l.expiresAt,
  status: statusOf(l),
  reason: l.reason,
  publisherNote: l.publisherNote,
  keyGeneration: l.keyGeneration,
  revokedAt: l.revokedAt,
});

/**
 * License keys: a compact ES256 JWS behind a prefix. The claims carry what offline verifiers need
 * (publisher, chart, range, updates-until) and nothing personal; revocation lives in the database.
 */
@Injectable()
export class LicenseService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: SigningKeysService,
    private readonly statusCache: LicenseStatusCache,
    private readonly verifiedKeys: VerifiedKeyCache,
    private readonly changes: ChangeFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Issues inside the caller's transaction when given one; one license per order is a unique key. */
  async issue(input: IssueLicenseInput, manager?: EntityManager): Promise<LicenseView> {
    const m = manager ?? this.dataSource.manager;
    const now = new Date();
    const e = entitlementFor(input.policy, input.newestStable, now);
    const row = m.create(LicenseEntity, {
      orderId: input.orderId,
      publisherId: input.publisherId,
      publisherSlug: input.publisherSlug,
      chartId: input.chartId,
      chartName: input.chartName,
      buyerEmail: input.buyerEmail,
      versionRange: input.versionRange ?? e.versionRange,
      updatesUntil: input.versionRange ? null : e.updatesUntil,
      issuedAt: now,
      expiresAt: null,
      revokedAt: null,
      suspendedAt: null,
      reason: null,
      publisherNote: null,
      kid: this.keys.signingKey().kid,
      keyGeneration: 0,
    });
    await m.insert(LicenseEntity, row);
    return toLicenseView(row);
  }

  /**
   * The key for a license. ECDSA signatures are randomised, so each call yields a different string, all
   * valid: keys are never stored, and re-showing one (success page) needs only the row.
   */
  keyFor(l: LicenseView): string {
    const { kid, privateKey } = this.keys.signingKey();
    const claims: Record<string, unknown> = {
      pub: l.publisher,
      chart: l.chart,
      range: l.versionRange,
      upd: l.updatesUntil ? l.updatesUntil.toISOString() : null,
      iat: Math.floor(l.issuedAt.getTime() / 1000),
    };
    if (l.expiresAt) claims.exp = Math.floor(l.expiresAt.getTime() / 1000);
    // Absent for generation 0, so keys minted before rotation existed stay byte-compatible with verifiers.
    if (l.keyGeneration > 0) claims.gen = l.keyGeneration;
    const token = jwt.sign(claims, privateKey, {
      algorithm: 'ES256',
      keyid: kid,
      header: { alg: 'ES256', kid, typ: 'JWT' },
      issuer: this.config.publicUrl,
      subject: l.id,
    });
    return LICENSE_KEY_PREFIX + token;
  }

  /**
   * Signature, key, issuer and expiry, then the row's revocation state. Both are cached: a key seen
   * before skips the signature check (VerifiedKeyCache), the row comes from LicenseStatusCache.
   */
  async verify(key: string): Promise<VerifiedLicense> {
    if (typeof key !== 'string' || !key.startsWith(LICENSE_KEY_PREFIX) || key.length > MAX_KEY_LENGTH) {
      return { valid: false, reason: 'malformed' };
    }
    let claims = this.verifiedKeys.get(key);
    if (!claims) {
      const generation = this.verifiedKeys.current;
      const checked = await this.verifySignature(key.slice(LICENSE_KEY_PREFIX.length));
      if ('reason' in checked) return checked;
      claims = checked;
      this.verifiedKeys.remember(key, claims, generation);
    }
    if (claims.exp !== undefined && Date.now() >= claims.exp * 1000)
      return { valid: false, reason: 'expired' };
    return this.outcome(await this.statusCache.get(claims.sub), claims);
  }

  /**
   * verify() answered from memory alone: the key already verified and its license's state cached.
   * Undefined when either would need work (a signature check or a query); the caller then calls verify().
   * Not counted in the cache statistics until the caller uses the answer (countCachedCheck).
   */
  verifyFromCache(key: string): VerifiedLicense | undefined {
    if (typeof key !== 'string' || !key.startsWith(LICENSE_KEY_PREFIX) || key.length > MAX_KEY_LENGTH)
      return undefined;
    const claims = this.verifiedKeys.get(key, false);
    if (!claims || (claims.exp !== undefined && Date.now() >= claims.exp * 1000)) return undefined;
    const row = this.statusCache.peek(claims.sub);
    return row === undefined ? undefined : this.outcome(row, claims);
  }

  countCachedCheck(): void {
    this.verifiedKeys.countHit();
  }

  private outcome(row: LicenseEntity | null, claims: VerifiedClaims): VerifiedLicense {
    if (!row) return { valid: false, reason: 'not_found' };
    const license = toLicenseView(row);
    if (license.status !== 'active') return { valid: false, reason: license.status, license };
    if (claims.gen < row.keyGeneration) return { valid: false, reason: 'rotated', license };
    return {
      valid: true,
      license,
      entitlement: { versionRange: license.versionRange, updatesUntil: license.updatesUntil },
    };
  }

  private async verifySignature(
    token: string,
  ): Promise<VerifiedClaims | { valid: false; reason: LicenseInvalidReason }> {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload !== 'object' || typeof decoded.header.kid !== 'string') {
      return { valid: false, reason: 'malformed' };
    }
    const vk = await this.keys.verificationKey(decoded.header.kid);
    if (!vk) return { valid: false, reason: 'unknown_key' };
    let claims: jwt.JwtPayload & Partial<LicenseClaims>;
    try {
      // The algorithm comes from the key record, never from the token's header.
      claims = jwt.verify(token, vk.publicKey, {
        algorithms: [vk.algorithm],
        issuer: this.config.publicUrl,
      }) as jwt.JwtPayload;
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'TokenExpiredError') return { valid: false, reason: 'expired' };
      if (/jwt issuer invalid/.test((e as Error).message)) return { valid: false, reason: 'wrong_issuer' };
      return { valid: false, reason: 'bad_signature' };
    }
    if (typeof claims.sub !== 'string') return { valid: false, reason: 'malformed' };
    const gen = (claims as { gen?: unknown }).gen ?? 0;
    if (!Number.isSafeInteger(gen) || (gen as number) < 0) return { valid: false, reason: 'malformed' };
    return {
      sub: claims.sub,
      gen: gen as number,
      ...(typeof claims.exp === 'number' ? { exp: claims.exp } : {}),
    };
  }

  covers(e: Entitlement, version: { version: string; createdAt: Date }): boolean {
    return covers(e, version);
  }

  /**
   * One page of the publisher's licenses, newest first (id breaks ties), by keyset like the order list:
   * licenses issued while a client walks the pages appear before its first page and never shift the rest.
   */
  async list(publisherId: string, filter: LicenseFilter = {}): Promise<LicensePage> {
    const qb = this.dataSource
      .getRepository(LicenseEntity)
      .createQueryBuilder('l')
      .where('l.publisher_id = :publisherId', { publisherId });
    if (filter.status === 'revoked') qb.andWhere('l.revoked_at IS NOT NULL');
    if (filter.status === 'suspended') qb.andWhere('l.revoked_at IS NULL AND l.suspended_at IS NOT NULL');
    if (filter.status === 'active') qb.andWhere('l.revoked_at IS NULL AND l.suspended_at IS NULL');
    if (filter.chart) qb.andWhere('l.chart_name = :chart', { chart: filter.chart });
    if (filter.email) qb.andWhere('l.buyer_email = :email', { email: filter.email.trim().toLowerCase() });
    if (filter.from) qb.andWhere('l.issued_at >= :from', { from: filter.from });
    if (filter.to) qb.andWhere('l.issued_at < :to', { to: filter.to });
    const { rows, nextCursor } = await keysetPage(qb, 'issued_at', filter);
    return { licenses: rows.map(toLicenseView), nextCursor };
  }

  /**
   * Whether the publisher has sold licenses still in force (from an order, not revoked; a suspended one
   * during a dispute counts): buyers paid for them, so the publisher cannot simply vanish.
   */
  async hasLivePaid(publisherId: string, manager?: EntityManager): Promise<boolean> {
    const m = manager ?? this.dataSource.manager;
    return m.exists(LicenseEntity, { where: { publisherId, orderId: Not(IsNull()), revokedAt: IsNull() } });
  }

  /** Whether any license (in any state) was bought by or given to `email`. */
  hasAnyForBuyer(email: string): Promise<boolean> {
    return this.dataSource
      .getRepository(LicenseEntity)
      .exists({ where: { buyerEmail: email.trim().toLowerCase() } });
  }

  /** Every license bought by or given to `email`, newest first: what "My licenses" lists. */
  async listForBuyer(email: string): Promise<LicenseView[]> {
    const rows = await this.dataSource.getRepository(LicenseEntity).find({
      where: { buyerEmail: email.trim().toLowerCase() },
      order: { issuedAt: 'DESC', id: 'DESC' },
      take: 500,
    });
    return rows.map(toLicenseView);
  }

  /** The holder's license, or 404 exactly as if it did not exist when it is someone else's. */
  async requireForBuyer(email: string, id: string): Promise<LicenseView> {
    const row = await this.dataSource
      .getRepository(LicenseEntity)
      .findOne({ where: { id, buyerEmail: email.trim().toLowerCase() } });
    if (!row) throw LicensingErrors.LicenseNotFound();
    return toLicenseView(row);
  }

  /** The holder's current key (freshly signed); a revoked license has none (409). */
  async currentKeyForBuyer(email: string, id: string): Promise<{ id: string; key: string }> {
    const license = await this.requireForBuyer(email, id);
    if (license.status === 'revoked') throw LicensingErrors.LicenseRevoked();
    return { id: license.id, key: this.keyFor(license) };
  }

  /**
   * A new key for the holder's license; every key minted before stops working. The bump and its notice
   * commit together, so other replicas drop what they cached of the license (the revocation bound).
   * A revoked license has nothing to rotate (409); a suspended one may rotate and stays suspended.
   */
  async rotateKey(email: string, id: string): Promise<{ license: LicenseView; key: string }> {
    const current = await this.requireForBuyer(email, id);
    if (current.status === 'revoked') throw LicensingErrors.LicenseRevoked();
    const rotated = await this.changeAndAnnounce(undefined, id, async (m) => {
      await m
        .createQueryBuilder()
        .update(LicenseEntity)
        .set({ keyGeneration: () => 'key_generation + 1' })
        .where('id = :id AND revoked_at IS NULL', { id })
        .execute();
      return m.getRepository(LicenseEntity).findOneOrFail({ where: { id } });
    });
    if (rotated.revokedAt) throw LicensingErrors.LicenseRevoked();
    const license = toLicenseView(rotated);
    return { license, key: this.keyFor(license) };
  }

  find(id: string): Promise<LicenseView | null> {
    return this.findOne({ id });
  }

  findByOrder(orderId: string): Promise<LicenseView | null> {
    return this.findOne({ orderId });
  }

  private async findOne(where: { id: string } | { orderId: string }): Promise<LicenseView | null> {
    const row = await this.dataSource.getRepository(LicenseEntity).findOne({ where });
    return row ? toLicenseView(row) : null;
  }

  /** Permanent. Returns false when nothing changed (already revoked). `note`: the publisher's words. */
  async revoke(
    where: { id?: string; orderId?: string; publisherId?: string },
    reason: string,
    manager?: EntityManager,
    note?: string,
  ): Promise<boolean> {
    return this.changeAndAnnounce(manager, where.id, async (m) => {
      const result = await m.update(
        LicenseEntity,
        { ...where, revokedAt: IsNull() },
        { revokedAt: new Date(), reason, ...(note ? { publisherNote: note } : {}) },
      );
      return (result.affected ?? 0) > 0;
    });
  }

  async suspend(orderId: string, reason: string, manager?: EntityManager): Promise<void> {
    await this.changeAndAnnounce(manager, undefined, (m) =>
      m.update(
        LicenseEntity,
        { orderId, revokedAt: IsNull(), suspendedAt: IsNull() },
        { suspendedAt: new Date(), reason },
      ),
    );
  }

  async reinstate(orderId: string, manager?: EntityManager): Promise<void> {
    await this.changeAndAnnounce(manager, undefined, (m) =>
      m.update(LicenseEntity, { orderId, revokedAt: IsNull() }, { suspendedAt: null, reason: null }),
    );
  }

  /**
   * Undoes the publisher's own revocation of a complimentary license (one without an order): keys minted
   * for it work again, on every replica, once this commits (announced like a revocation). A paid license,
   * one revoked for another reason (refund, lost dispute, publisher closed) or one not revoked is 409
   * license_not_reinstatable; another publisher's is 404 as if it did not exist.
   */
  async reinstateComplimentary(publisherId: string, id: string): Promise<LicenseView> {
    const current = await this.requireForPublisher(publisherId, id);
    const refusal =
      current.orderId !== null
        ? 'Only a complimentary license can be reinstated; this one was bought (its order decides).'
        : current.status !== 'revoked'
          ? 'This license is not revoked.'
          : current.reason !== 'revoked_by_publisher'
            ? 'Only a license you revoked yourself can be reinstated.'
            : null;
    if (refusal) throw LicensingErrors.LicenseNotReinstatable(refusal);
    const row = await this.changeAndAnnounce(undefined, id, async (m) => {
      const result = await m.update(
        LicenseEntity,
        { id, publisherId, orderId: IsNull(), revokedAt: Not(IsNull()), reason: 'revoked_by_publisher' },
        { revokedAt: null, reason: null, publisherNote: null },
      );
      if (!result.affected) return null;
      return m.getRepository(LicenseEntity).findOneOrFail({ where: { id } });
    });
    if (!row)
      throw LicensingErrors.LicenseNotReinstatable('This license changed meanwhile; reload and try again.');
    return toLicenseView(row);
  }

  /**
   * Every replica drops its cached state of the license (of all, without an id) when `m`'s transaction
   * commits; this one also drops it now, and again via forgetCachedStatus() after the commit.
   */
  private async changeAndAnnounce<T>(
    manager: EntityManager | undefined,
    id: string | undefined,
    change: (m: EntityManager) => Promise<T>,
  ): Promise<T> {
    // The change and its notice commit together: no revocation other replicas never hear of.
    const run = async (m: EntityManager) => {
      const out = await change(m);
      this.statusCache.invalidateAll();
      await this.changes.publish('licenses', id ?? '', m);
      return out;
    };
    if (manager) return run(manager);
    const out = await this.dataSource.transaction(run);
    this.statusCache.invalidateAll();
    return out;
  }

  /** Call after a transaction that changed license states commits, so this replica sees them at once. */
  forgetCachedStatus(): void {
    this.statusCache.invalidateAll();
  }

  async requireForPublisher(publisherId: string, id: string): Promise<LicenseView> {
    const row = await this.dataSource.getRepository(LicenseEntity).findOne({ where: { id, publisherId } });
    if (!row) throw LicensingErrors.LicenseNotFound();
    return toLicenseView(row);
  }
}
