import semver from 'semver';
import { covers, entitlementFor, newestStable } from './update-policy';

const at = new Date('2026-03-15T12:00:00Z');
const v = (version: string, created = '2026-01-01T00:00:00Z') => ({ version, createdAt: new Date(created) });

describe('update policies', () => {
  it('all: every version ever, including pre-releases and later majors', () => {
    const e = entitlementFor({ kind: 'all' }, '1.2.0', at);
    for (const x of ['0.0.1', '1.2.0', '2.0.0', '3.0.0-rc.1', '99.0.0'])
      expect([x, covers(e, v(x, '2030-01-01T00:00:00Z'))]).toEqual([x, true]);
  });

  it('major: the major line of the newest stable version at purchase, and nothing of the next line', () => {
    const e = entitlementFor({ kind: 'major' }, '1.2.0', at);
    expect(e).toEqual({ versionRange: '>=1.0.0 <2.0.0-0', updatesUntil: null });
    expect(['1.0.0', '1.2.0', '1.9.9', '1.3.0-beta.1'].map((x) => covers(e, v(x)))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['0.9.0', '2.0.0', '2.0.0-rc.1', '3.1.0'].map((x) => covers(e, v(x)))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('major on a 0.x chart covers 0.x, not just one minor (no caret surprise)', () => {
    const e = entitlementFor({ kind: 'major' }, '0.4.2', at);
    expect(['0.1.0', '0.4.2', '0.9.0'].every((x) => covers(e, v(x)))).toBe(true);
    expect(covers(e, v('1.0.0'))).toBe(false);
  });

  it('minor: the minor line only', () => {
    const e = entitlementFor({ kind: 'minor' }, '2.3.4', at);
    expect(e.versionRange).toBe('>=2.3.0 <2.4.0-0');
    expect(['2.3.0', '2.3.9'].every((x) => covers(e, v(x)))).toBe(true);
    expect(['2.2.9', '2.4.0', '3.3.0'].some((x) => covers(e, v(x)))).toBe(false);
  });

  it('window: versions created before purchase + N months, whatever their number', () => {
    const e = entitlementFor({ kind: 'window', months: 6 }, '1.0.0', at);
    expect(e.updatesUntil?.toISOString()).toBe('2026-09-15T12:00:00.000Z');
    expect(covers(e, v('5.0.0', '2026-09-15T11:59:59Z'))).toBe(true);
    expect(covers(e, v('1.0.1', '2026-09-15T12:00:00Z'))).toBe(false);
  });

  it('agrees with semver on every version of a sample grid (major and minor)', () => {
    for (const base of ['0.1.0', '1.0.0', '1.4.2', '3.0.0']) {
      const p = semver.parse(base)!;
      const major = entitlementFor({ kind: 'major' }, base, at);
      const minor = entitlementFor({ kind: 'minor' }, base, at);
      for (let M = 0; M < 5; M++)
        for (let m = 0; m < 6; m++) {
          const x = `${M}.${m}.1`;
          expect([x, covers(major, v(x))]).toEqual([x, M === p.major]);
          expect([x, covers(minor, v(x))]).toEqual([x, M === p.major && m === p.minor]);
        }
    }
  });

  it('anchors on the newest stable version, ignoring pre-releases', () => {
    expect(newestStable(['1.0.0', '2.0.0-rc.1', '1.10.0', '1.9.0'])).toBe('1.10.0');
    expect(newestStable(['0.1.0-alpha'])).toBe('0.1.0-alpha');
    expect(newestStable([])).toBeNull();
  });
});
