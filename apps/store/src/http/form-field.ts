import type { Request } from 'express';

/** One field of an urlencoded form post, '' when absent or not a string (a repeated field is an array). */
export function formField(req: Request, name: string, opts: { trim?: boolean } = {}): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  if (typeof v !== 'string') return '';
  return opts.trim === false ? v : v.trim();
}

/** One field of the query string (a GET form), trimmed; '' when absent or repeated. */
export function queryField(req: Request, name: string): string {
  const v = req.query[name];
  return typeof v === 'string' ? v.trim() : '';
}
