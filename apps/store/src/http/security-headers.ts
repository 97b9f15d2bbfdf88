import type { ServerResponse } from 'node:http';

/**
 * Headers for every response. Pages set their own policy (PAGE_CSP: the store's stylesheet, script and
 * forms); everything else is JSON, YAML or archives, which may load nothing and must never be sniffed into
 * something executable.
 */
export function securityHeaders(httpsOnly: boolean): ReadonlyArray<readonly [string, string]> {
  const headers: Array<readonly [string, string]> = [
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Referrer-Policy', 'no-referrer'],
    [
      'Content-Security-Policy',
      "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
  ];
  if (httpsOnly) headers.push(['Strict-Transport-Security', 'max-age=31536000']);
  return headers;
}

export function setSecurityHeaders(res: ServerResponse, httpsOnly: boolean): void {
  for (const [name, value] of securityHeaders(httpsOnly)) res.setHeader(name, value);
}
