import { createHash } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { ChangeFeed } from '@berth/database';

export interface VerifiedClaims {
  sub: string;
  /** Seconds since the epoch, as in the token; absent for a key that never expires. */
  exp?: number;
  /** The key generation the key was minted for (0 when the claim is absent: keys from before rotation). */
  gen: number;
}

/**
 * License keys whose signature, key id and issuer were already verified, so a buyer's repeated pulls
 * cost a hash and a map lookup rather than an ECDSA verification. Holds digests, not keys. Bounded
 * (least recently used out); dropped for a license when it is revoked or suspended and entirely when
 * signing keys change or notices may have been missed. Expiry is still checked on every hit, and the
 * license's status is always read from LicenseStatusCache, never from here.
 */
@Injectable()
export class VerifiedKeyCache implements OnModuleInit {
  private readonly entries = new Map<string, VerifiedClaims>();
  private readonly maxEntries = 10_000;
  private generation = 0;
  /** Lookups answered from memory, and those that needed a signature check: exported as metrics. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly changes: ChangeFeed) {}

  onModuleInit(): void {
    this.changes.subscribe('signing_keys', () => this.clear());
    this.changes.subscribe('licenses', (id) =>
      typeof id === 'string' && id ? this.forgetLicense(id) : this.clear(),
    );
  }

  /** The generation to hand back to remember(): a notice heard in between voids what was verified. */
  get current(): number {
    return this.generation;
  }

  /** `count: false` for a look whose caller counts what it used (see countHit). */
  get(key: string, count = true): VerifiedClaims | undefined {
    const digest = this.changes.connected ? this.digest(key) : '';
    const hit = digest ? this.entries.get(digest) : undefined;
    if (hit) {
      this.entries.delete(digest);
      this.entries.set(digest, hit);
      if (count) this.stats.hits += 1;
    } else if (count) {
      this.stats.misses += 1;
    }
    return hit;
  }

  countHit(): void {
    this.stats.hits += 1;
  }

  remember(key: string, claims: VerifiedClaims, generation: number): void {
    if (generation !== this.generation || !this.changes.connected) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(this.digest(key), {
      sub: claims.sub,
      gen: claims.gen,
      ...(claims.exp !== undefined ? { exp: claims.exp } : {}),
    });
  }

  get size(): number {
    return this.entries.size;
  }

  private forgetLicense(id: string): void {
    this.generation += 1;
    for (const [digest, c] of this.entries) if (c.sub === id) this.entries.delete(digest);
  }

  private clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  private digest(key: string): string {
    return createHash('sha256').update(key).digest('base64url');
  }
}
