import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import type { NextFunction, Request, Response } from 'express';
import { sendError, domainErrorBody } from './error.filter';
import { isLogin } from './login-route';
import { HttpErrors } from './http-errors';

interface Window {
  failures: number;
  resetAt: number;
}

class FixedWindows {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly maxKeys: number) {}

  /** Seconds until `key` may try again, or 0. */
  blockedFor(key: string, limit: number, now: number): number {
    const w = this.windows.get(key);
    if (!w || w.resetAt <= now || w.failures < limit) return 0;
    return Math.max(1, Math.ceil((w.resetAt - now) / 1000));
  }

  fail(key: string, windowMs: number, now: number): void {
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      this.windows.delete(key);
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
      w = { failures: 0, resetAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.failures += 1;
  }
}

/**
 * Throttles guessing of credentials on every route: API tokens, access tokens, license keys and Basic
 * pairs and password logins alike. Each credential refused with 401 (see sendError) counts against the request's
 * client (address, behind TRUST_PROXY) and against that exact credential (by hash, whoever sends it).
 * Past either limit, requests carrying credentials get 429 with Retry-After until the window ends;
 * anonymous requests (the public index) are still served. In memory, per replica: N replicas allow N
 * times the limit, which still leaves a 256-bit key unguessable and bounds noisy clients.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly byClient = new FixedWindows(100_000);
  private readonly byCredential = new FixedWindows(100_000);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private static credentialKey(authorization: string): string {
    return createHash('sha256').update(authorization.trim()).digest('base64url');
  }

  /** Whether the middleware would answer 429 to this client and credential right now. */
  blocks(client: string, authorization: string): boolean {
    const { authFailuresPerClient, authFailuresPerCredential } = this.config.http;
    const now = Date.now();
    return (
      this.byClient.blockedFor(client, authFailuresPerClient, now) > 0 ||
      this.byCredential.blockedFor(
        AuthFailureLimiter.credentialKey(authorization),
        authFailuresPerCredential,
        now,
      ) > 0
    );
  }

  middleware() {
    const { authFailuresPerClient, authFailuresPerCredential, authFailureWindowSeconds } = this.config.http;
    const windowMs = authFailureWindowSeconds * 1000;
    return (req: Request, res: Response, next: NextFunction) => {
      const authorization = req.headers.authorization;
      if (!authorization && !isLogin(req)) return next();
      const client = req.ip ?? req.socket.remoteAddress ?? '';
      // A login has no credential header; its e-mail has its own throttle (LoginThrottle).
      const credential = authorization ? AuthFailureLimiter.credentialKey(authorization) : null;
      const now = Date.now();
      const wait = Math.max(
        this.byClient.blockedFor(client, authFailuresPerClient, now),
        credential ? this.byCredential.blockedFor(credential, authFailuresPerCredential, now) : 0,
      );
      if (wait > 0) {
        const id = String((req as { id?: unknown }).id ?? '');
        sendError(req, res, domainErrorBody(HttpErrors.TooManyAuthFailures(wait)), id);
        return;
      }
      res.once('finish', () => {
        if (!res.locals.credentialRejected) return;
        this.byClient.fail(client, windowMs, Date.now());
        if (credential) this.byCredential.fail(credential, windowMs, Date.now());
      });
      next();
    };
  }
}
