import { AppConfig } from '@berth/config';
import { PAGE_CSP, pageEtag, PageContext, RenderedPage } from '@berth/storefront';
import type { Request, Response } from 'express';

export function pageContext(config: AppConfig): PageContext {
  return { basePath: new URL(config.publicUrl).pathname.replace(/\/+$/, ''), publicUrl: config.publicUrl };
}

/**
 * Sends a page. Anonymous pages are cacheable briefly and validated by ETag (a weak one, from the bytes;
 * a page from RenderedPages brings its own); a page with anything personal in it is `private, no-store`.
 */
export function sendPage(
  req: Request,
  res: Response,
  status: number,
  page: string | RenderedPage,
  cache: 'public' | 'no-store' = 'public',
): void {
  const html = typeof page === 'string' ? page : page.html;
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  // Not no-referrer (the default for everything else): under it a browser sends `Origin: null` with a
  // form post, and the pages' own posts must show the store's origin. Other sites still get no Referer.
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  if (cache === 'no-store' || status !== 200) {
    res.setHeader('Cache-Control', cache === 'no-store' ? 'private, no-store' : 'no-cache');
    res.status(status).send(html);
    return;
  }
  const etag = typeof page === 'string' ? pageEtag(html) : page.etag;
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', 'public, max-age=60');
  const match = req.headers['if-none-match'];
  if (match && match.split(',').some((t) => t.trim() === etag)) {
    res.status(304).end();
    return;
  }
  res.status(200).send(html);
}
