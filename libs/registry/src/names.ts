import { RegistryErrors } from './errors';

/** One path component of a repository name (distribution spec). */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const ANY_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** Words of the API's own paths: a name holding one would make routes ambiguous. */
const RESERVED = new Set(['blobs', 'manifests', 'tags', 'uploads', 'referrers']);
const MAX_NAME = 255;

export interface RepositoryName {
  /** The whole name, e.g. `acme/redis` or `acme/team/redis`. */
  full: string;
  /** Its first component: the publisher's slug. */
  publisher: string;
  /** The rest: a chart's name when it is one component long. */
  path: string;
}

/** Parses `<publisher>/<name>[/…]`; anything else is `name_invalid`. */
export function parseRepositoryName(full: string): RepositoryName {
  const parts = full.split('/');
  if (full.length > MAX_NAME || parts.length < 2) {
    throw RegistryErrors.NameInvalid('Repository names are <publisher>/<name>, at most 255 characters.');
  }
  for (const p of parts) {
    if (!COMPONENT.test(p) || RESERVED.has(p)) {
      throw RegistryErrors.NameInvalid(
        'Each part of a repository name is lowercase letters and digits, separated by ".", "_", "__" or "-", and none is blobs, manifests, tags, uploads or referrers.',
      );
    }
  }
  return { full, publisher: parts[0], path: parts.slice(1).join('/') };
}

export const isTag = (ref: string) => TAG.test(ref);

/**
 * A digest this registry stores by: `sha256:<64 hex>`. A well-formed digest of another algorithm is
 * `digest_invalid` too, naming what is supported.
 */
export function parseDigest(value: string | undefined): string {
  if (typeof value === 'string' && DIGEST.test(value)) return value;
  if (typeof value === 'string' && ANY_DIGEST.test(value)) {
    throw RegistryErrors.DigestInvalid('Only sha256 digests are supported.');
  }
  throw RegistryErrors.DigestInvalid('The digest is missing or malformed (sha256:<64 lowercase hex>).');
}

export const isDigest = (ref: string) => DIGEST.test(ref);

/** A manifest reference: a tag or a digest. */
export function parseReference(ref: string): { tag: string } | { digest: string } {
  if (ref.includes(':')) return { digest: parseDigest(ref) };
  if (!isTag(ref)) throw RegistryErrors.ManifestInvalid('The tag is malformed.');
  return { tag: ref };
}

/** Helm writes a chart version's `+` as `_` in a tag (tags cannot hold `+`). */
export const versionToTag = (version: string) => version.replace(/\+/g, '_');
export const tagToVersion = (tag: string) => tag.replace(/_/g, '+');

export const blobKeyOf = (publisherId: string, digest: string) =>
  `oci/${publisherId}/sha256/${digest.slice('sha256:'.length)}`;
