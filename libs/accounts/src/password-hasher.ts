import { Inject, Injectable } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { AccountsErrors } from './errors';

/** Argon2id with OWASP's minimum parameters (19 MiB, t=2, p=1). */
const OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** What the hasher has done; read by /metrics and by tests (a taken e-mail must cost no hash). */
export interface PasswordHasherStats {
  hashed: number;
  verified: number;
  /** Refused with 503 password_checks_busy: every slot taken and the queue full. */
  refused: number;
  running: number;
  /** The most hashes that ever ran at once. */
  peakRunning: number;
}

/**
 * Argon2id hashing and verification, at most PASSWORD_HASH_CONCURRENCY at once per replica (each takes
 * ~19 MiB and a libuv worker thread for tens of milliseconds), with at most PASSWORD_HASH_QUEUE waiting;
 * beyond that a request is refused at once with 503 and Retry-After instead of queueing, so a flood of
 * sign-ups or logins never holds the worker threads and memory that other requests need.
 */
@Injectable()
export class PasswordHasher {
  readonly stats: PasswordHasherStats = { hashed: 0, verified: 0, refused: 0, running: 0, peakRunning: 0 };
  private readonly waiting: Array<() => void> = [];
  // A real hash of a random string, verified against when the e-mail is unknown, so that a login for
  // an unknown account costs the same time as one for a known account.
  private dummy?: Promise<string>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  hash(password: string): Promise<string> {
    return this.slot(() => {
      this.stats.hashed += 1;
      return hash(password, OPTIONS);
    });
  }

  async verify(passwordHash: string | null, password: string): Promise<boolean> {
    this.dummy ??= hash('berth-dummy-password-for-timing', OPTIONS);
    const against = passwordHash ?? (await this.dummy);
    return this.slot(async () => {
      this.stats.verified += 1;
      try {
        const ok = await verify(against, password);
        return passwordHash !== null && ok;
      } catch {
        return false;
      }
    });
  }

  private async slot<T>(work: () => Promise<T>): Promise<T> {
    const { hashConcurrency, hashQueue } = this.config.auth;
    if (this.stats.running >= hashConcurrency) {
      if (this.waiting.length >= hashQueue) {
        this.stats.refused += 1;
        throw AccountsErrors.PasswordChecksBusy();
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.stats.running += 1;
    }
    this.stats.peakRunning = Math.max(this.stats.peakRunning, this.stats.running);
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next in line (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.stats.running -= 1;
    }
  }
}
