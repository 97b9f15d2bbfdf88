import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AccountsErrors,
  LOGO_MAX_BYTES,
  logoExtension,
  PublisherProfile,
  PublisherProfileChange,
  PublisherProfileService,
  sniffLogo,
  StoredLogo,
} from '@berth/accounts';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';

/** A logo checked and ready to store: its bytes, sniffed type and digest. */
export interface CheckedLogo {
  bytes: Buffer;
  contentType: StoredLogo['contentType'];
  sha256: string;
}

/** Blob keys are made here, never from input: `logos/<publisher>/<sha256>.<ext>` (not under `charts/`). */
const logoBlobKey = (publisherId: string, logo: CheckedLogo) =>
  `logos/${publisherId}/${logo.sha256}.${logoExtension(logo.contentType)}`;

/**
 * A publisher's profile with its uploaded logo, composed here because it spans accounts (the profile row)
 * and artifacts (the blob store). The bytes are written before the row points to them; a logo replaced
 * or removed is deleted after the commit (a failure there leaves an unreferenced blob, logged).
 */
@Injectable()
export class PublisherLogos {
  private readonly logger = new Logger(PublisherLogos.name);

  constructor(
    private readonly profiles: PublisherProfileService,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  /** Size and type by the bytes themselves (`logo_too_large`, `logo_type_unsupported`); nothing stored. */
  check(bytes: Buffer): CheckedLogo {
    if (bytes.length > LOGO_MAX_BYTES) throw AccountsErrors.LogoTooLarge(LOGO_MAX_BYTES);
    const contentType = sniffLogo(bytes);
    return { bytes, contentType, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  /** Stores a checked logo as the publisher's logo. */
  async upload(publisherId: string, logo: CheckedLogo): Promise<PublisherProfile> {
    const blobKey = logoBlobKey(publisherId, logo);
    await this.blobs.put(blobKey, logo.bytes, { maxBytes: LOGO_MAX_BYTES, contentType: logo.contentType });
    try {
      const { profile, replacedBlobKey } = await this.profiles.setLogoFile(publisherId, {
        blobKey,
        contentType: logo.contentType,
        sha256: logo.sha256,
      });
      await this.drop(replacedBlobKey);
      return profile;
    } catch (e) {
      if (!(await this.profiles.logoInUse(blobKey).catch(() => true))) await this.drop(blobKey);
      throw e;
    }
  }

  /** Name, support address, logo address: the profile's fields (validated together, then saved). */
  async update(publisherId: string, change: PublisherProfileChange): Promise<PublisherProfile> {
    const { profile, replacedBlobKey } = await this.profiles.update(publisherId, change);
    await this.drop(replacedBlobKey);
    return profile;
  }

  async remove(publisherId: string): Promise<PublisherProfile> {
    const { profile, replacedBlobKey } = await this.profiles.clearLogo(publisherId);
    await this.drop(replacedBlobKey);
    return profile;
  }

  /** The uploaded logo of a publisher, to serve; null when it has none. */
  async open(slug: string): Promise<(StoredLogo & { body: Readable }) | null> {
    const logo = await this.profiles.logoFile(slug);
    return logo && { ...logo, body: await this.blobs.get(logo.blobKey) };
  }

  /** After a publisher is deleted (its account closed): every logo it stored. Failures are logged only. */
  async forget(publisherId: string): Promise<void> {
    try {
      for await (const blob of this.blobs.list(`logos/${publisherId}/`)) await this.drop(blob.key);
    } catch (e) {
      this.logger.warn({ msg: 'logos of a closed account not listed', err: (e as Error).message });
    }
  }

  private async drop(blobKey: string | null): Promise<void> {
    if (!blobKey) return;
    await this.blobs
      .delete(blobKey)
      .catch((e: unknown) =>
        this.logger.warn({ msg: 'replaced logo not deleted', err: (e as Error).message }),
      );
  }
}
