/** What an API token may do. Upload and yank are `charts:write`; reading the publisher's own API is `charts:read`. */
export const API_TOKEN_SCOPES = [
  'charts:read',
  'charts:write',
  'listings:write',
  'licenses:read',
  'licenses:write',
  'orders:read',
  'orders:refund',
] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

export const PUBLISHER_SLUG_PATTERN = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/**
 * Slugs that would read as the store's own paths, brand or well-known services in a repo URL, or as
 * JavaScript's own property names (a slug is a map key in more than one place).
 */
export const RESERVED_SLUGS = new Set([
  'api',
  'v1',
  'v2',
  'v3',
  'helm',
  'admin',
  'administrator',
  'root',
  'system',
  'berth',
  'www',
  'static',
  'assets',
  'public',
  'checkout',
  'healthz',
  'readyz',
  'metrics',
  'well-known',
  'login',
  'logout',
  'signin',
  'signup',
  'register',
  'account',
  'accounts',
  'session',
  'sessions',
  'token',
  'tokens',
  'publisher',
  'publishers',
  'catalog',
  'charts',
  'licenses',
  'orders',
  'payouts',
  'operator',
  'security',
  'support',
  'help',
  'docs',
  'status',
  'stripe',
  'webhooks',
  'webhook',
  'openapi',
  'swagger',
  'jwks',
  'null',
  'undefined',
  'nan',
  'true',
  'false',
  'constructor',
  'prototype',
  'proto',
  'hasownproperty',
  'tostring',
  'valueof',
]);

/**
 * Why a slug that matches PUBLISHER_SLUG_PATTERN is still refused, or null. `--` is refused anywhere:
 * `xn--` names are punycode for other scripts (a look-alike of another publisher), and DNS reserves
 * dashes in the third and fourth position for such encodings.
 */
export function slugRefusal(slug: string): string | null {
  if (RESERVED_SLUGS.has(slug)) return `The publisher name "${slug}" is reserved.`;
  if (slug.includes('--')) return 'Publisher names cannot contain "--" (reserved for encoded names).';
  return null;
}
