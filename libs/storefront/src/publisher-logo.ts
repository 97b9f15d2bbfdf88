import type { PublisherLogo } from '@berth/accounts';

/**
 * Where a publisher's logo is shown from: the https address it gave, or the store's own copy of the
 * uploaded image under `base` ('' or PUBLIC_URL), with the image's SHA-256 in the path, so a new logo is
 * a new address and the old one may be cached for good.
 */
export function publisherLogoUrl(base: string, slug: string, logo: PublisherLogo | null): string | null {
  if (!logo) return null;
  return logo.kind === 'url'
    ? logo.url
    : `${base}/publishers/${encodeURIComponent(slug)}/logo/${logo.sha256}`;
}
