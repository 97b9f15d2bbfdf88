import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';

interface Window {
  failures: number;
  inFlight: number;
  first: number;
  lockedUntil: number;
}

/**
 * Counts failed logins per e-mail and per (client, e-mail); after too many failures in the window the
 * key is locked for a while. Attempts still being checked count too, so a burst of parallel guesses
 * cannot slip past the limit while the slow password hash runs. Not keyed on the client alone: behind
 * an ingress every user shares one address. In memory, per replica (the abuse issue adds a shared limit).
 */
@Injectable()
export class LoginThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly maxKeys = 100_000;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private window(key: string, now: number): Window {
    const windowMs = this.config.auth.loginLockoutSeconds * 1000;
    let w = this.windows.get(key);
    if (!w || (now - w.first > windowMs && w.lockedUntil <= now && w.inFlight === 0)) {
      w = { failures: 0, inFlight: 0, first: now, lockedUntil: 0 };
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
      this.windows.set(key, w);
    }
    return w;
  }

  /** Reserves an attempt; returns the seconds to wait instead when the keys are locked or saturated. */
  begin(keys: string[], now = Date.now()): number {
    const max = this.config.auth.loginMaxFailures;
    let wait = 0;
    for (const key of keys) {
      const w = this.window(key, now);
      if (w.lockedUntil > now) wait = Math.max(wait, Math.ceil((w.lockedUntil - now) / 1000));
      else if (w.failures + w.inFlight >= max) wait = Math.max(wait, 1);
    }
    if (wait > 0) return wait;
    for (const key of keys) this.window(key, now).inFlight += 1;
    return 0;
  }

  /** Releases the reservation and records the result. */
  end(keys: string[], ok: boolean, now = Date.now()): void {
    const windowMs = this.config.auth.loginLockoutSeconds * 1000;
    for (const key of keys) {
      const w = this.window(key, now);
      w.inFlight = Math.max(0, w.inFlight - 1);
      if (ok) {
        w.failures = 0;
        continue;
      }
      w.failures += 1;
      if (w.failures >= this.config.auth.loginMaxFailures) w.lockedUntil = now + windowMs;
    }
  }
}
