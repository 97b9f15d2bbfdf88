import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { RateLimitWindows, WindowCount } from '@berth/database';
import type { NextFunction, Request, Response } from 'express';
import { clientKey } from './client-key';
import { domainErrorBody, sendError } from './error.filter';
import { HttpErrors } from './http-errors';
import { LimitWindows } from './limit-windows';
import { isLogin } from './login-route';

/** Keys tracked in memory per replica (locks, and local counts while the database is unreachable). */
export const LIMITER_MAX_KEYS = 100_000;

/** Set on `res.locals` by the limiter: sendError awaits it before writing a refused-credential 401. */
export type CountRejection = () => Promise<void>;

/**
 * Throttles guessing of credentials on every route: API tokens, access tokens, license keys and Basic
 * pairs and password logins alike. Each credential refused with 401 (see sendError) counts against the
 * request's client (address, behind TRUST_PROXY; IPv6 by /64) and against that exact credential (by hash,
 * whoever sends it), before the 401 is written, so even strictly sequential guesses cannot outrun it. A
 * login reserves its place in the client's count when it arrives and gives it back when it does not fail,
 * so a parallel burst cannot have more checks running than the limit. Past either limit, requests carrying
 * credentials get 429 with Retry-After until the window ends; anonymous requests are still served.
 *
 * The counts live in Postgres (RateLimitWindows), so the limits hold across replicas; whether a request is
 * blocked is an in-memory lookup, fed by those counts and by every replica's lock notices. While the
 * database cannot be reached, failures are counted in memory on this replica.
 */
@Injectable()
export class AuthFailureLimiter implements OnModuleDestroy {
  private readonly memory = new LimitWindows(LIMITER_MAX_KEYS);
  private readonly unsubscribe: () => void;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly windows: RateLimitWindows,
  ) {
    this.unsubscribe = windows.onLock((n) => this.memory.lock(n.key, n.until));
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  private clientKey(address: string | undefined): string {
    return this.windows.keyOf('auth-client', clientKey(address));
  }

  private credentialKey(authorization: string): string {
    return this.windows.keyOf('auth-credential', authorization.trim());
  }

  /** Whether the middleware would answer 429 to this client and credential right now (in memory only). */
  blocks(client: string, authorization: string): boolean {
    if (!this.memory.hasLocks()) return false;
    return (
      this.memory.lockedFor(this.clientKey(client)) > 0 ||
      this.memory.lockedFor(this.credentialKey(authorization)) > 0
    );
  }

  middleware() {
    const { authFailuresPerClient, authFailuresPerCredential, authFailureWindowSeconds } = this.config.http;
    const limitOf = (key: string, client: string) =>
      key === client ? authFailuresPerClient : authFailuresPerCredential;

    // Counted failures: lock a key that reached its limit, here at once and everywhere by notice.
    const lockIfOver = async (counts: WindowCount[], client: string) => {
      for (const c of counts) {
        if (c.count < limitOf(c.key, client) || this.memory.lockedFor(c.key) > 0) continue;
        this.memory.lock(c.key, c.resetAt);
        await this.windows.lock({ key: c.key, until: c.resetAt }).catch(() => undefined);
      }
    };
    const countLocally = (keys: string[], client: string) => {
      for (const key of keys) this.memory.count(key, authFailureWindowSeconds * 1000, limitOf(key, client));
    };

    return (req: Request, res: Response, next: NextFunction) => {
      const authorization = req.headers.authorization;
      const login = isLogin(req);
      if (!authorization && !login) return next();
      const address = req.ip ?? req.socket.remoteAddress;
      const refuse = (wait: number) =>
        sendError(
          req,
          res,
          domainErrorBody(HttpErrors.TooManyAuthFailures(wait)),
          String((req as { id?: unknown }).id ?? ''),
        );
      // Keys are HMACs: computed only when something is locked, or when a credential was refused.
      if (this.memory.hasLocks()) {
        const wait = Math.max(
          this.memory.lockedFor(this.clientKey(address)),
          authorization ? this.memory.lockedFor(this.credentialKey(authorization)) : 0,
        );
        if (wait > 0) return refuse(wait);
      }

      if (!login) {
        res.locals.countRejection = (async () => {
          const client = this.clientKey(address);
          const keys = [client, this.credentialKey(authorization as string)];
          try {
            await lockIfOver(await this.windows.hit(keys, authFailureWindowSeconds), client);
          } catch {
            countLocally(keys, client);
          }
        }) satisfies CountRejection;
        return next();
      }
      // A login has no credential header; its e-mail has its own throttle (LoginThrottle).
      const client = this.clientKey(address);

      // A login reserves its place first: the password hash is slow, and a burst must not all get checked.
      this.windows.hit([client], authFailureWindowSeconds).then(
        ([reserved]) => {
          if (reserved.count > authFailuresPerClient) {
            void lockIfOver([reserved], client);
            return refuse(Math.max(1, Math.ceil((reserved.resetAt - Date.now()) / 1000)));
          }
          res.locals.countRejection = (() => lockIfOver([reserved], client)) satisfies CountRejection;
          res.once('close', () => {
            // Not a refused credential (or the client left first): the reservation is given back.
            if (!res.locals.credentialRejected) void this.windows.release([reserved]).catch(() => undefined);
          });
          next();
        },
        // The database is unreachable: so is the account; the error filter answers 503.
        (e: unknown) => next(e),
      );
    };
  }
}
