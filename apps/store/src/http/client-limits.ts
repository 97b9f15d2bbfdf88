import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { RateLimitWindows } from '@berth/database';
import type { Request } from 'express';
import { clientKey } from './client-key';
import { HttpErrors } from './http-errors';

const LIMITS = {
  signup: {
    limit: (c: AppConfig) => c.http.signupsPerClient,
    refuse: HttpErrors.TooManySignups,
  },
  checkout: {
    limit: (c: AppConfig) => c.http.checkoutsPerClient,
    refuse: HttpErrors.TooManyCheckouts,
  },
} as const;

/**
 * Per-client limits on anonymous routes that cost the store real work or clutter (sign-up hashes a
 * password; every checkout is an order row and a payment session). Counted in the shared windows, so the
 * limit holds across replicas; every attempt counts, whatever its outcome.
 */
@Injectable()
export class ClientLimits {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly windows: RateLimitWindows,
  ) {}

  /** Counts this attempt; throws 429 with Retry-After once the client is past its limit. */
  async consume(kind: keyof typeof LIMITS, req: Request): Promise<void> {
    const { limit, refuse } = LIMITS[kind];
    const key = this.windows.keyOf(`client-${kind}`, clientKey(req.ip ?? req.socket.remoteAddress));
    const [count] = await this.windows.hit([key], this.config.http.clientLimitWindowSeconds);
    if (count.count <= limit(this.config)) return;
    throw refuse(Math.max(1, Math.ceil((count.resetAt - Date.now()) / 1000)));
  }

  /**
   * A mailed link (a buyer's sign-in link, a password reset): counted per client and per e-mail address
   * (one statement), so neither one client nor many clients can flood one inbox. The address is counted
   * as an HMAC, never stored. Each kind of link has its own budget of LOGIN_LINKS_PER_*.
   */
  async consumeMailedLink(kind: 'loginLink' | 'passwordReset', req: Request, email: string): Promise<void> {
    const keys = [
      this.windows.keyOf(`client-${kind}`, clientKey(req.ip ?? req.socket.remoteAddress)),
      this.windows.keyOf(`email-${kind}`, email.trim().toLowerCase()),
    ];
    const [client, address] = await this.windows.hit(keys, this.config.http.clientLimitWindowSeconds);
    const over = [
      client.count > this.config.http.loginLinksPerClient ? client : undefined,
      address.count > this.config.http.loginLinksPerEmail ? address : undefined,
    ].filter((c) => c !== undefined);
    if (!over.length) return;
    const resetAt = Math.max(...over.map((c) => c.resetAt));
    throw HttpErrors.TooManyLoginLinks(Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)));
  }
}
