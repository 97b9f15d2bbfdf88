import { clientKey } from './client-key';
import { LimitWindows } from './limit-windows';

describe('LimitWindows', () => {
  const t0 = 1_000_000;

  it('keeps a locked victim locked through a flood of distinct keys far beyond its capacity', () => {
    const w = new LimitWindows(1_000);
    for (let i = 0; i < 3; i++) w.count('victim', 60_000, 3, t0);
    expect(w.lockedFor('victim', t0 + 1)).toBe(60);
    // 100,000 fresh keys, each one failure: a hundred times the capacity.
    for (let i = 0; i < 100_000; i++) w.count(`flood-${i}`, 60_000, 3, t0 + 2);
    expect(w.size).toBeLessThanOrEqual(1_000);
    expect(w.lockedFor('victim', t0 + 3)).toBe(60);
  });

  it('drops expired windows first, then the oldest unlocked key, and never a live lock', () => {
    const w = new LimitWindows(3);
    w.lock('locked', t0 + 60_000, t0);
    w.count('old', 1_000, 5, t0);
    w.count('young', 60_000, 5, t0 + 10);
    // Full: "old" has expired by now, so it goes first.
    expect(w.count('new1', 60_000, 5, t0 + 2_000)).toBe(1);
    expect(w.count('young', 60_000, 5, t0 + 2_000)).toBe(2);
    // Full of live entries: the oldest unlocked ("young") goes, the lock stays.
    expect(w.count('new2', 60_000, 5, t0 + 3_000)).toBe(1);
    expect(w.count('young', 60_000, 5, t0 + 3_000)).toBe(1);
    expect(w.lockedFor('locked', t0 + 3_000)).toBe(57);
    // Full of live locks: a new key is not tracked rather than evicting one.
    const all = new LimitWindows(2);
    all.lock('a', t0 + 60_000, t0);
    all.lock('b', t0 + 60_000, t0);
    expect(all.count('c', 60_000, 5, t0)).toBe(0);
    expect(all.lockedFor('a', t0)).toBe(60);
    expect(all.lockedFor('b', t0)).toBe(60);
  });

  it('says cheaply when nothing is locked, and forgets locks once they end', () => {
    const w = new LimitWindows(10);
    expect(w.hasLocks(t0)).toBe(false);
    w.count('k', 1_000, 5, t0);
    expect(w.hasLocks(t0)).toBe(false);
    w.lock('k', t0 + 1_000, t0);
    expect(w.hasLocks(t0)).toBe(true);
    expect(w.hasLocks(t0 + 5_000)).toBe(false);
    expect(w.size).toBe(0);
  });
});

describe('clientKey', () => {
  it('keys IPv6 clients by /64 and folds IPv4-mapped addresses to IPv4', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
    expect(clientKey(undefined)).toBe('');
  });
});
