interface Entry {
  count: number;
  resetAt: number;
  lockedUntil: number;
}

/**
 * Per-replica memory of rate-limit keys: which are locked (from the shared counts and other replicas'
 * notices) and, while the database cannot be reached, local fixed-window counts. Bounded: at capacity
 * expired entries go first, then the oldest unlocked one; a map full of live locks tracks no new key
 * rather than dropping a lock, so a flood of fresh keys can never unlock a victim.
 */
export class LimitWindows {
  private readonly entries = new Map<string, Entry>();
  private locks = 0;
  private nextSweep = 0;

  constructor(private readonly maxKeys: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Cheap: false when no key is (or recently was) locked, so the hot path computes no key at all. */
  hasLocks(now = Date.now()): boolean {
    if (this.locks > 0 && now >= this.nextSweep) this.sweep(now);
    return this.locks > 0;
  }

  /** Seconds until `key` may try again, or 0. */
  lockedFor(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    if (!e || e.lockedUntil <= now) return 0;
    return Math.max(1, Math.ceil((e.lockedUntil - now) / 1000));
  }

  /** Locks `key` until `until` (epoch ms); false when the map is full of live locks. */
  lock(key: string, until: number, now = Date.now()): boolean {
    const e = this.entry(key, now, until);
    if (!e) return false;
    if (e.lockedUntil === 0) this.locks += 1;
    e.lockedUntil = Math.max(e.lockedUntil, until);
    e.resetAt = Math.max(e.resetAt, until);
    return true;
  }

  /** Counts one failure locally; locks the key at `limit`. Answers the count (0 when not tracked). */
  count(key: string, windowMs: number, limit: number, now = Date.now()): number {
    const e = this.entry(key, now, now + windowMs);
    if (!e) return 0;
    e.count += 1;
    if (e.count >= limit) this.lock(key, e.resetAt, now);
    return e.count;
  }

  private entry(key: string, now: number, resetAt: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && (e.resetAt > now || e.lockedUntil > now)) return e;
    if (e) this.remove(key, e);
    // A full sweep at most once a second, so a flood of new keys costs O(1) each, not O(map).
    if (this.entries.size >= this.maxKeys && now >= this.nextSweep) this.sweep(now);
    if (this.entries.size >= this.maxKeys && !this.evictOldestUnlocked(now)) return undefined;
    const fresh = { count: 0, resetAt, lockedUntil: 0 };
    this.entries.set(key, fresh);
    return fresh;
  }

  private remove(key: string, e: Entry): void {
    this.entries.delete(key);
    if (e.lockedUntil > 0) this.locks -= 1;
  }

  /** Drops every expired entry (window over and lock over). */
  private sweep(now: number): void {
    this.nextSweep = now + 1000;
    for (const [key, e] of this.entries) if (e.resetAt <= now && e.lockedUntil <= now) this.remove(key, e);
  }

  private evictOldestUnlocked(now: number): boolean {
    // Map order is insertion order: the first unlocked entry is the oldest one.
    for (const [key, e] of this.entries) {
      if (e.lockedUntil > now) continue;
      this.remove(key, e);
      return true;
    }
    return false;
  }
}
