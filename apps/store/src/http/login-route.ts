import type { Request } from 'express';

/** Password logins: one client trying many e-mails is throttled per client, one e-mail by LoginThrottle. */
export const isLogin = (req: Request): boolean =>
  req.method === 'POST' && /^\/+v1\/+sessions\/*$/i.test(req.path);
