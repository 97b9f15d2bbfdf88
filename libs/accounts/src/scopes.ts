/** What an API token may do. Upload and yank are `charts:write`; reading the publisher's own API is `charts:read`. */
export const API_TOKEN_SCOPES = [
  'charts:read',
  'charts:write',
  'listings:write',
  'licenses:read',
  'licenses:write',
  'orders:read',
] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

export const PUBLISHER_SLUG_PATTERN = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** Slugs that would read as the store's own paths or brand in a repo URL. */
export const RESERVED_SLUGS = new Set([
  'api',
  'v1',
  'v2',
  'helm',
  'admin',
  'root',
  'berth',
  'www',
  'static',
  'assets',
  'checkout',
  'healthz',
  'readyz',
  'metrics',
  'well-known',
  'login',
  'signup',
  'support',
  'help',
  'docs',
  'status',
]);
