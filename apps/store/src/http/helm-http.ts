import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IndexBody, RepoViewer } from '@berth/helm-repo';

/** The user name of a Basic Authorization header (a license id, for a buyer), or ''. */
export const basicUsername = (header: string): string => {
  const [scheme, value] = header.split(/\s+/, 2);
  if (!/^basic$/i.test(scheme) || !value) return '';
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return decoded.slice(0, Math.max(0, decoded.indexOf(':')));
};

export const etagMatches = (header: string | undefined, etag: string) =>
  !!header && header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*');

/** Validators and caching rules of every repository answer: revalidate always, privately when credentialed. */
export const repoCacheHeaderList = (viewer: RepoViewer, etag: string) =>
  [
    'ETag',
    etag,
    'Vary',
    'Authorization, Accept-Encoding',
    'Cache-Control',
    viewer.kind === 'public' ? 'public, no-cache' : 'private, no-cache',
  ] as const;

export function repoCacheHeaders(res: ServerResponse, viewer: RepoViewer, etag: string): void {
  const list = repoCacheHeaderList(viewer, etag);
  for (let i = 0; i < list.length; i += 2) res.setHeader(list[i], list[i + 1]);
}

/** An archive is always an attachment, under a name that cannot break out of the header. */
export const attachmentName = (file: string) =>
  `attachment; filename="${file.replace(/[^A-Za-z0-9._+-]/g, '_')}"`;

export const acceptsGzip = (req: IncomingMessage) =>
  /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));

/**
 * Writes an index answer: 304 on a matching validator, else the ready bytes (`gz` when the client takes
 * gzip). The controller and the pull lane both answer through this, so their answers cannot drift apart.
 * `head` holds headers the caller has not set yet (the lane's fixed ones); everything goes out in one
 * writeHead, which with nothing set before costs far less than a setHeader per header.
 */
export function sendIndex(
  req: IncomingMessage,
  res: ServerResponse,
  viewer: RepoViewer,
  index: IndexBody,
  gz: Buffer | undefined,
  head: string[] = [],
): void {
  // Each encoding is a different representation, so it has its own strong ETag (RFC 9110 8.8.3).
  const etag = gz ? index.gzipEtag : index.etag;
  head.push(...repoCacheHeaderList(viewer, etag), 'Last-Modified', index.lastModified);
  if (etagMatches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, head);
    res.end();
    return;
  }
  head.push('Content-Type', 'application/json; charset=utf-8');
  if (gz) head.push('Content-Encoding', 'gzip');
  head.push('Content-Length', String(gz ? gz.length : index.length));
  res.writeHead(200, head);
  if (req.method === 'HEAD') res.end();
  else if (gz) res.end(gz);
  else if (index.parts.length === 1) res.end(index.parts[0]);
  else {
    // A buyer's view goes out as the slices it is made of: never copied into one buffer per request.
    res.cork();
    for (const part of index.parts) res.write(part);
    res.end();
  }
}
