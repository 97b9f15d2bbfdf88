import { Logger } from '@nestjs/common';
import type { AppConfig } from '@berth/config';
import type { NextFunction, Request, Response } from 'express';

const WHY =
  'every client reached through a proxy or ingress shares its address, so AUTH_FAILURES_PER_CLIENT ' +
  'lets anyone lock out every buyer and CI upload; set TRUST_PROXY to the proxy hops or CIDRs ' +
  '(e.g. TRUST_PROXY=1 behind one ingress), or TRUST_PROXY=false when clients connect directly';

/**
 * TRUST_PROXY unset behind a proxy is the usual misconfiguration: say so loudly, at start in
 * production and once on the first request that carries a forwarding header. An explicit value,
 * `false` included, is the operator's decision and stays quiet.
 */
export function forwardedHeaderWarning(config: AppConfig) {
  const logger = new Logger('Http');
  if (config.http.trustProxyConfigured) return (_req: Request, _res: Response, next: NextFunction) => next();
  if (config.env === 'production') logger.warn({ msg: `TRUST_PROXY is not set: ${WHY}` });
  let warned = false;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (
      !warned &&
      (req.headers['x-forwarded-for'] !== undefined ||
        req.headers.forwarded !== undefined ||
        req.headers['x-real-ip'] !== undefined)
    ) {
      warned = true;
      logger.warn({
        msg: `a request came through a proxy (forwarding headers) but TRUST_PROXY is not set: ${WHY}`,
      });
    }
    next();
  };
}
