import type { ServerResponse } from 'node:http';

/**
 * Headers for every response. The only HTML is the checkout pages (inline CSS, a same-origin form);
 * everything else is JSON, YAML or archives that must never be sniffed into something executable.
 */
export function setSecurityHeaders(res: ServerResponse, httpsOnly: boolean): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  if (httpsOnly) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
}
