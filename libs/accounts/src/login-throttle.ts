import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { RateLimitWindows, WindowCount } from '@berth/database';

/** An attempt admitted by `begin`: what `end` gives back or keeps. */
export interface LoginReservation {
  counts: WindowCount[];
}

/**
 * Counts logins per (client, e-mail) and per e-mail, in the shared windows (every replica), reserving
 * the attempt when it starts so a burst of parallel guesses cannot slip past while the slow hash runs.
 *
 * - (client, e-mail): a hard lock after LOGIN_MAX_FAILURES failures, until the window ends.
 * - e-mail alone: past the limit, only clients that have themselves tried this e-mail in the window are
 *   refused; a client that has not is still let in. So guesses from anywhere slow an attacker down to one
 *   try per address, but cannot lock the owner out of their own account (to revoke a leaked token, say).
 *
 * Not keyed on the client alone here: behind an ingress every user shares one address (the HTTP edge has
 * its own per-client limit).
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly windows: RateLimitWindows,
  ) {}

  private keys(client: string, email: string): [string, string] {
    return [
      this.windows.keyOf('login-client-email', `${client}\n${email}`),
      this.windows.keyOf('login-email', email),
    ];
  }

  /** Reserves an attempt; or answers the seconds to wait instead. */
  async begin(client: string, email: string): Promise<LoginReservation | { wait: number }> {
    const { loginMaxFailures: max, loginLockoutSeconds } = this.config.auth;
    const counts = await this.windows.hit(this.keys(client, email), loginLockoutSeconds);
    const [byClient, byEmail] = counts;
    const refused =
      byClient.count > max ||
      // Past the e-mail's limit only a client new to this e-mail (its own attempt is its first) gets in.
      (byEmail.count > max && byClient.count > 1);
    if (!refused) return { counts };
    await this.windows.release(counts);
    const resetAt = byClient.count > max ? byClient.resetAt : Math.min(byClient.resetAt, byEmail.resetAt);
    return { wait: Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)) };
  }

  /** A failed attempt stays counted; a success clears both keys' failures; an unchecked one is given back. */
  async end(reservation: LoginReservation, outcome: 'ok' | 'failed' | 'unchecked'): Promise<void> {
    if (outcome === 'ok') await this.windows.reset(reservation.counts.map((c) => c.key));
    else if (outcome === 'unchecked') await this.windows.release(reservation.counts);
  }
}
