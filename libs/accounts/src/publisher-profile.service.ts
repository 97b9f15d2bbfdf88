import { Injectable } from '@nestjs/common';
import { ChangeFeed } from '@berth/database';
import { DataSource, EntityManager } from 'typeorm';
import { acceptableEmail } from './email';
import { PublisherEntity } from './entities';
import { acceptableDisplayName, acceptableLogoUrl, LogoContentType } from './publisher-logo';

/** A publisher's logo: an https address it gave, or an image it uploaded (served by the store). */
export type PublisherLogo =
  { kind: 'url'; url: string } | { kind: 'file'; sha256: string; contentType: LogoContentType };

export interface PublisherProfile {
  slug: string;
  displayName: string;
  supportEmail: string | null;
  logo: PublisherLogo | null;
}

/** What a profile change asks for; an absent field is left as it is. */
export interface PublisherProfileChange {
  displayName?: string;
  /** null clears it. */
  supportEmail?: string | null;
  /** An https address replaces any logo (an uploaded one too); null removes the logo. */
  logoUrl?: string | null;
}

/** An uploaded logo as stored: where its bytes are, their type and digest. */
export interface StoredLogo {
  blobKey: string;
  contentType: LogoContentType;
  sha256: string;
}

const toProfile = (p: PublisherEntity): PublisherProfile => ({
  slug: p.slug,
  displayName: p.displayName,
  supportEmail: p.supportEmail,
  logo: p.logoBlobKey
    ? { kind: 'file', sha256: p.logoSha256 ?? '', contentType: p.logoContentType as LogoContentType }
    : p.logoUrl
      ? { kind: 'url', url: p.logoUrl }
      : null,
});

const NO_FILE = { logoBlobKey: null, logoContentType: null, logoSha256: null };

/**
 * What a publisher tells buyers about itself: its name, logo and where support mail goes. Every change is
 * announced on the 'publishers' change feed (with the transaction, so other replicas hear it on commit,
 * and at once on this one): the publisher refs kept in memory and the rendered public pages drop it.
 */
@Injectable()
export class PublisherProfileService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly feed: ChangeFeed,
  ) {}

  async get(publisherId: string): Promise<PublisherProfile | null> {
    const p = await this.dataSource.getRepository(PublisherEntity).findOne({ where: { id: publisherId } });
    return p && toProfile(p);
  }

  /** Sets (or with null clears) the support address; refused like a sign-up address when not deliverable. */
  async setSupportEmail(publisherId: string, email: string | null): Promise<PublisherProfile> {
    return (await this.update(publisherId, { supportEmail: email })).profile;
  }

  /**
   * Validates every field first (a refusal stores nothing), then saves them. Returns the profile and the
   * blob key of an uploaded logo this change replaced, for the caller to delete after the commit.
   */
  async update(
    publisherId: string,
    change: PublisherProfileChange,
  ): Promise<{ profile: PublisherProfile; replacedBlobKey: string | null }> {
    const set: Partial<PublisherEntity> = {};
    if (change.displayName !== undefined) set.displayName = acceptableDisplayName(change.displayName);
    if (change.supportEmail !== undefined)
      set.supportEmail = change.supportEmail === null ? null : acceptableEmail(change.supportEmail);
    if (change.logoUrl !== undefined)
      Object.assign(set, {
        logoUrl: change.logoUrl === null ? null : acceptableLogoUrl(change.logoUrl),
        ...NO_FILE,
      });
    return this.save(publisherId, set);
  }

  /** The uploaded logo is now this one (an address given earlier is dropped). */
  setLogoFile(
    publisherId: string,
    logo: StoredLogo,
  ): Promise<{ profile: PublisherProfile; replacedBlobKey: string | null }> {
    return this.save(publisherId, {
      logoUrl: null,
      logoBlobKey: logo.blobKey,
      logoContentType: logo.contentType,
      logoSha256: logo.sha256,
    });
  }

  /** No logo at all. */
  clearLogo(publisherId: string): Promise<{ profile: PublisherProfile; replacedBlobKey: string | null }> {
    return this.save(publisherId, { logoUrl: null, ...NO_FILE });
  }

  /** The uploaded logo of a publisher, by slug, for serving it; null when it has none. */
  async logoFile(slug: string): Promise<StoredLogo | null> {
    const p = await this.dataSource.getRepository(PublisherEntity).findOne({
      where: { slug },
      select: { id: true, logoBlobKey: true, logoContentType: true, logoSha256: true },
    });
    if (!p?.logoBlobKey || !p.logoSha256 || !p.logoContentType) return null;
    return {
      blobKey: p.logoBlobKey,
      contentType: p.logoContentType as LogoContentType,
      sha256: p.logoSha256,
    };
  }

  /** Whether any publisher's logo is stored under this key (a blob in use is never deleted). */
  async logoInUse(blobKey: string, m: EntityManager = this.dataSource.manager): Promise<boolean> {
    return m.getRepository(PublisherEntity).exists({ where: { logoBlobKey: blobKey } });
  }

  private async save(
    publisherId: string,
    set: Partial<PublisherEntity>,
  ): Promise<{ profile: PublisherProfile; replacedBlobKey: string | null }> {
    const { slug, replaced } = await this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(PublisherEntity);
      const before = await repo
        .createQueryBuilder('p')
        .setLock('pessimistic_write')
        .where('p.id = :publisherId', { publisherId })
        .getOneOrFail();
      if (Object.keys(set).length) await repo.update({ id: publisherId }, set);
      const key = 'logoBlobKey' in set && before.logoBlobKey !== set.logoBlobKey ? before.logoBlobKey : null;
      // Another publisher's logo may be the very same bytes (keys are per publisher, but be sure).
      const replaced = key && !(await this.logoInUse(key, m)) ? key : null;
      await this.feed.publish('publishers', before.slug, m);
      return { slug: before.slug, replaced };
    });
    // This replica's caches drop the publisher with this response, not when the notice comes back.
    this.feed.announceLocally('publishers', slug);
    return { profile: (await this.get(publisherId))!, replacedBlobKey: replaced };
  }
}
