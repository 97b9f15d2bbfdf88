import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';

interface Window {
  failures: number;
  first: number;
  lockedUntil: number;
}

/**
 * Counts failed logins per e-mail and per client address; after too many failures in the window the
 * key is locked for a while. In memory, per replica: a distributed limit is the abuse issue's job.
 */
@Injectable()
export class LoginThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly maxKeys = 100_000;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Seconds until the key may try again, or 0. */
  retryAfter(keys: string[], now = Date.now()): number {
    let wait = 0;
    for (const key of keys) {
      const w = this.windows.get(key);
      if (w && w.lockedUntil > now) wait = Math.max(wait, Math.ceil((w.lockedUntil - now) / 1000));
    }
    return wait;
  }

  recordFailure(keys: string[], now = Date.now()): void {
    const windowMs = this.config.auth.loginLockoutSeconds * 1000;
    for (const key of keys) {
      let w = this.windows.get(key);
      if (!w || now - w.first > windowMs) {
        w = { failures: 0, first: now, lockedUntil: 0 };
        if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
        this.windows.set(key, w);
      }
      w.failures += 1;
      if (w.failures >= this.config.auth.loginMaxFailures) w.lockedUntil = now + windowMs;
    }
  }

  recordSuccess(keys: string[]): void {
    for (const key of keys) this.windows.delete(key);
  }
}
