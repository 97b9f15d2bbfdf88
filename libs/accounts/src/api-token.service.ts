import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { ApiTokenEntity, PublisherEntity } from './entities';
import { ApiTokenScope } from './scopes';
import { AccountsErrors } from './errors';

/** Recognisable prefix so secret scanners can find leaked tokens. */
export const API_TOKEN_PREFIX = 'berth_pat_';

export interface ApiTokenView {
  id: string;
  name: string;
  scopes: ApiTokenScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface AuthenticatedApiToken {
  tokenId: string;
  publisherId: string;
  publisherSlug: string;
  scopes: ApiTokenScope[];
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

const toView = (t: ApiTokenEntity): ApiTokenView => ({
  id: t.id,
  name: t.name,
  scopes: t.scopes as ApiTokenScope[],
  createdAt: t.createdAt,
  lastUsedAt: t.lastUsedAt,
  revokedAt: t.revokedAt,
});

@Injectable()
export class ApiTokenService {
  /** last_used_at is written at most once a minute per token, not on every request. */
  private readonly lastTouched = new Map<string, number>();

  constructor(private readonly dataSource: DataSource) {}

  /** Creates a token; the secret is in the result once and only its hash is stored. */
  async create(
    publisherId: string,
    name: string,
    scopes: ApiTokenScope[],
  ): Promise<ApiTokenView & { token: string }> {
    const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const entity = await this.dataSource.getRepository(ApiTokenEntity).save({
      publisherId,
      name: name.trim(),
      tokenHash: sha256(token),
      scopes: [...new Set(scopes)].sort(),
      lastUsedAt: null,
      revokedAt: null,
    });
    return { ...toView(entity), token };
  }

  async list(publisherId: string): Promise<ApiTokenView[]> {
    const rows = await this.dataSource
      .getRepository(ApiTokenEntity)
      .find({ where: { publisherId }, order: { createdAt: 'DESC' } });
    return rows.map(toView);
  }

  async revoke(publisherId: string, tokenId: string): Promise<void> {
    const repo = this.dataSource.getRepository(ApiTokenEntity);
    const found = await repo.findOne({ where: { id: tokenId, publisherId } });
    if (!found) throw AccountsErrors.ApiTokenNotFound();
    if (!found.revokedAt) await repo.update({ id: tokenId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  /**
   * Resolves a presented token, or a 401 that does not say whether it was unknown or revoked. With
   * `publisherSlug`, a live token of another publisher gets that same 401 (and is not marked as used):
   * whoever holds a token cannot learn from the answer which publisher it is not for.
   */
  async authenticate(token: string, publisherSlug?: string): Promise<AuthenticatedApiToken> {
    const invalidToken = AccountsErrors.ApiTokenInvalid();
    if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) throw invalidToken;
    const row = await this.dataSource
      .getRepository(ApiTokenEntity)
      .createQueryBuilder('t')
      .innerJoinAndMapOne('t.publisher', PublisherEntity, 'p', 'p.id = t.publisher_id')
      .where('t.token_hash = :hash', { hash: sha256(token) })
      .getOne();
    if (!row || row.revokedAt || !row.publisher) throw invalidToken;
    if (publisherSlug !== undefined && row.publisher.slug !== publisherSlug) throw invalidToken;
    this.touch(row.id);
    return {
      tokenId: row.id,
      publisherId: row.publisherId,
      publisherSlug: row.publisher.slug,
      scopes: row.scopes as ApiTokenScope[],
    };
  }

  private touch(tokenId: string): void {
    const now = Date.now();
    if ((this.lastTouched.get(tokenId) ?? 0) > now - 60_000) return;
    this.lastTouched.set(tokenId, now);
    if (this.lastTouched.size > 10_000) this.lastTouched.clear();
    void this.dataSource
      .getRepository(ApiTokenEntity)
      .update({ id: tokenId }, { lastUsedAt: new Date(now) })
      .catch(() => undefined);
  }
}
