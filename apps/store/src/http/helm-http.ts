import type { ServerResponse } from 'node:http';
import type { RepoViewer } from '@berth/helm-repo';

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
export function repoCacheHeaders(res: ServerResponse, viewer: RepoViewer, etag: string): void {
  res.setHeader('ETag', etag);
  res.setHeader('Vary', 'Authorization, Accept-Encoding');
  res.setHeader('Cache-Control', viewer.kind === 'public' ? 'public, no-cache' : 'private, no-cache');
}

/** An archive is always an attachment, under a name that cannot break out of the header. */
export const attachmentName = (file: string) =>
  `attachment; filename="${file.replace(/[^A-Za-z0-9._+-]/g, '_')}"`;
