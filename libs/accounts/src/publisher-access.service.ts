import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { AccessTokens } from './access-tokens';
import { API_TOKEN_PREFIX, ApiTokenService } from './api-token.service';
import { PublisherEntity } from './entities';
import { ApiTokenScope } from './scopes';
import { AccountsErrors } from './errors';

export interface PublisherRef {
  id: string;
  slug: string;
  displayName: string;
}

/** Who acts on a publisher: its owner (access token) or one of its API tokens. */
export type PublisherPrincipal =
  | { kind: 'owner'; accountId: string; publisher: PublisherRef }
  | { kind: 'api_token'; tokenId: string; scopes: ApiTokenScope[]; publisher: PublisherRef };

/** The credential found in an Authorization header: a bearer token, or the password of Basic auth. */
export function credentialFromAuthorization(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!value) return null;
  if (/^bearer$/i.test(scheme)) return value.trim();
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon >= 0 ? decoded.slice(colon + 1) : '';
    return password || null;
  }
  return null;
}

/** Enough for every publisher of a large store; beyond it the oldest lookups are read again. */
const MAX_CACHED_PUBLISHERS = 10_000;

@Injectable()
export class PublisherAccessService {
  private readonly bySlug = new Map<string, PublisherRef>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly accessTokens: AccessTokens,
    private readonly apiTokens: ApiTokenService,
  ) {}

  /**
   * A publisher's id, slug and name never change once created (nothing updates or deletes one), so what
   * was found is kept: every Helm request starts here. Misses are not kept, because the slug may be
   * registered a moment later, maybe on another replica, and because strangers choose what is missed.
   */
  /** findBySlug from memory alone: undefined when it would need a query. */
  cachedBySlug(slug: string): PublisherRef | undefined {
    return this.bySlug.get(slug);
  }

  async findBySlug(slug: string): Promise<PublisherRef | null> {
    const known = this.bySlug.get(slug);
    if (known) return known;
    const p = await this.dataSource.getRepository(PublisherEntity).findOne({ where: { slug } });
    if (!p) return null;
    const ref: PublisherRef = { id: p.id, slug: p.slug, displayName: p.displayName };
    if (this.bySlug.size >= MAX_CACHED_PUBLISHERS)
      this.bySlug.delete(this.bySlug.keys().next().value as string);
    this.bySlug.set(slug, ref);
    return ref;
  }

  async findByIds(ids: string[]): Promise<Map<string, PublisherRef>> {
    if (!ids.length) return new Map();
    const rows = await this.dataSource.getRepository(PublisherEntity).findBy({ id: In([...new Set(ids)]) });
    return new Map(rows.map((p) => [p.id, { id: p.id, slug: p.slug, displayName: p.displayName }]));
  }

  async requireBySlug(slug: string): Promise<PublisherRef> {
    const p = await this.findBySlug(slug);
    if (!p) throw AccountsErrors.PublisherNotFound();
    return p;
  }

  /**
   * Authorises an Authorization header for one publisher. The owner's access token may do anything;
   * an API token must belong to this publisher and carry the scope.
   */
  async authorize(
    authorization: string | undefined,
    slug: string,
    scope: ApiTokenScope,
  ): Promise<PublisherPrincipal> {
    const credential = credentialFromAuthorization(authorization);
    if (!credential) throw AccountsErrors.AuthRequired();
    if (credential.startsWith(API_TOKEN_PREFIX)) {
      const token = await this.apiTokens.authenticate(credential);
      if (token.publisherSlug !== slug) {
        throw AccountsErrors.TokenWrongPublisher();
      }
      if (!token.scopes.includes(scope)) {
        throw AccountsErrors.TokenScopeMissing(scope);
      }
      const publisher = await this.requireBySlug(slug);
      return { kind: 'api_token', tokenId: token.tokenId, scopes: token.scopes, publisher };
    }
    if (!AccessTokens.looksLikeJwt(credential)) {
      throw AccountsErrors.ApiTokenInvalid();
    }
    const accountId = this.accessTokens.verify(credential);
    const row = await this.dataSource.getRepository(PublisherEntity).findOne({ where: { slug } });
    if (!row || row.ownerAccountId !== accountId) {
      // Same answer for "unknown publisher" and "not yours": do not reveal which publishers exist.
      throw AccountsErrors.NotPublisherOwner();
    }
    return {
      kind: 'owner',
      accountId,
      publisher: { id: row.id, slug: row.slug, displayName: row.displayName },
    };
  }
}
