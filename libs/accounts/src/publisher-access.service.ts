import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { ChangeFeed, CHANGES_MISSED } from '@berth/database';
import { DataSource, In } from 'typeorm';
import { AccessTokens } from './access-tokens';
import { API_TOKEN_PREFIX, ApiTokenService } from './api-token.service';
import { AccountEntity, PublisherEntity } from './entities';
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
export class PublisherAccessService implements OnModuleDestroy {
  private readonly bySlug = new Map<string, PublisherRef>();
  /** Bumped by every deletion notice: a row read before one must not be kept after it. */
  private generation = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly dataSource: DataSource,
    private readonly accessTokens: AccessTokens,
    private readonly apiTokens: ApiTokenService,
    private readonly feed: ChangeFeed,
  ) {
    // A deleted publisher (account closed) is forgotten on every replica when the deletion commits.
    this.unsubscribe = feed.subscribe('publishers', (slug) => {
      this.generation += 1;
      if (slug === CHANGES_MISSED || !slug) this.bySlug.clear();
      else this.bySlug.delete(slug);
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** Drops a slug from this replica's memory (after its deletion commits here). */
  forget(slug: string): void {
    this.generation += 1;
    this.bySlug.delete(slug);
  }

  /**
   * A publisher's id, slug and name never change once created; only closing the account deletes one,
   * announced on the change feed ('publishers'). So what was found is kept while the feed is heard: every
   * Helm request starts here. Misses are not kept, because the slug may be registered a moment later,
   * maybe on another replica, and because strangers choose what is missed.
   */
  /** findBySlug from memory alone: undefined when it would need a query. */
  cachedBySlug(slug: string): PublisherRef | undefined {
    return this.bySlug.get(slug);
  }

  async findBySlug(slug: string): Promise<PublisherRef | null> {
    const known = this.bySlug.get(slug);
    if (known) return known;
    const generation = this.generation;
    const p = await this.dataSource.getRepository(PublisherEntity).findOne({ where: { slug } });
    if (!p) return null;
    const ref: PublisherRef = { id: p.id, slug: p.slug, displayName: p.displayName };
    if (!this.feed.connected || generation !== this.generation) return ref;
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

  /**
   * Publishers whose slug or display name holds every word, each as a prefix (`terms` are letters and
   * digits only, from the catalog's searchTerms): a storefront search also finds a publisher's charts by
   * the publisher's name.
   */
  async matchingName(terms: string[]): Promise<string[]> {
    terms = terms.filter((t) => /^[\p{L}\p{N}]+$/u.test(t));
    if (!terms.length) return [];
    const rows = (await this.dataSource.query(
      `SELECT "id" FROM "publisher"
        WHERE to_tsvector('simple', "slug" || ' ' || "display_name") @@ to_tsquery('simple', $1) LIMIT 100`,
      [terms.map((t) => `${t}:*`).join(' & ')],
    )) as Array<{ id: string }>;
    return rows.map((r) => r.id);
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
      // Another publisher's live token gets the very answer of an unknown one (and counts as a failure).
      const token = await this.apiTokens.authenticate(credential, slug);
      if (!token.scopes.includes(scope)) {
        throw AccountsErrors.TokenScopeMissing(scope);
      }
      const publisher = await this.requireBySlug(slug);
      return { kind: 'api_token', tokenId: token.tokenId, scopes: token.scopes, publisher };
    }
    if (!AccessTokens.looksLikeJwt(credential)) {
      throw AccountsErrors.ApiTokenInvalid();
    }
    const { accountId, sessionEpoch } = this.accessTokens.verify(credential);
    // The token's session must still be the account's (not signed out everywhere, password unchanged).
    const [row] = (await this.dataSource
      .getRepository(PublisherEntity)
      .createQueryBuilder('p')
      .innerJoin(AccountEntity, 'a', 'a.id = p.owner_account_id')
      .select(['p.id AS id', 'p.slug AS slug', 'p.display_name AS "displayName"'])
      .addSelect(['p.owner_account_id AS "ownerAccountId"', 'a.session_epoch AS "sessionEpoch"'])
      .where('p.slug = :slug', { slug })
      .getRawMany()) as Array<PublisherRef & { ownerAccountId: string; sessionEpoch: number }>;
    if (row && row.ownerAccountId === accountId && row.sessionEpoch !== sessionEpoch) {
      throw AccessTokens.invalid();
    }
    if (!row || row.ownerAccountId !== accountId) {
      // A dead session (signed out, account closed) is refused as such, whatever it asks for.
      const live = await this.dataSource
        .getRepository(AccountEntity)
        .exists({ where: { id: accountId, sessionEpoch } });
      if (!live) throw AccessTokens.invalid();
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
