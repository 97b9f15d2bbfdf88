/**
 * Property-based tests for update policies, with the `semver` package's parser and comparators as the oracle.
 *
 * Intended semantics (design.md §6, README "Buying", the comments in update-policy.ts):
 * - `all`: every version ever; `window`: every version created before purchase + N calendar months.
 * - `major`: the major line of the anchor (the newest stable version at purchase): `>=M.0.0 <M+1.0.0-0`, i.e.
 *   `^M.0.0` for M >= 1 and the whole 0.x line for M = 0 (explicit bounds instead of `^0.x`'s narrowing).
 * - `minor`: the anchor's minor line, `>=M.m.0 <M.m+1.0-0` (= `~M.m.0`).
 * - No anchor (a chart without versions): `*`.
 * - The anchor is a pre-release only when the chart has no stable version (`newestStable` falls back to the
 *   newest pre-release); the license then also covers the pre-releases of its line's first version, so that it
 *   always covers the very version the buyer saw at checkout.
 */
import fc from 'fast-check';
import semver from 'semver';
import { covers, entitlementFor, newestStable, type UpdatePolicy } from './update-policy';

/** PROPERTY_RUNS_SCALE=20 for a deeper search (the default keeps the file under ~10 s). */
const SCALE = Number(process.env.PROPERTY_RUNS_SCALE ?? 1);
const NUM_RUNS = 500;
const run = <Ts extends [unknown, ...unknown[]]>(prop: fc.IProperty<Ts>, numRuns = NUM_RUNS) =>
  fc.assert(prop, { numRuns: Math.max(1, Math.round(numRuns * SCALE)) });

// ---------------------------------------------------------------------------------------------- generators

/** Version numbers: mostly tiny (so versions collide with the anchor's line), sometimes large. */
const num = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_000_000 }) },
);
const numericId = num.map(String);
const alphaId = fc.stringMatching(/^[0-9A-Za-z-]{0,6}[A-Za-z-][0-9A-Za-z-]{0,6}$/);
const prereleaseIds = fc.array(fc.oneof(numericId, alphaId, fc.constantFrom('alpha', 'beta', 'rc', '0')), {
  minLength: 1,
  maxLength: 3,
});
const buildIds = fc.array(fc.stringMatching(/^[0-9A-Za-z-]{1,8}$/), { minLength: 1, maxLength: 2 });

/** A valid SemVer 2 version, with optional pre-release and build metadata. */
const version = fc
  .record({
    major: num,
    minor: num,
    patch: num,
    pre: fc.option(prereleaseIds, { freq: 3 }),
    build: fc.option(buildIds, { freq: 5 }),
  })
  .map(
    ({ major, minor, patch, pre, build }) =>
      `${major}.${minor}.${patch}${pre ? `-${pre.join('.')}` : ''}${build ? `+${build.join('.')}` : ''}`,
  );
const stableVersion = fc
  .record({ major: num, minor: num, patch: num })
  .map(({ major, minor, patch }) => `${major}.${minor}.${patch}`);

const months = fc.integer({ min: 1, max: 120 }); // what the listing DTO accepts
const policy: fc.Arbitrary<UpdatePolicy> = fc.oneof(
  fc.constant({ kind: 'all' as const }),
  fc.constant({ kind: 'major' as const }),
  fc.constant({ kind: 'minor' as const }),
  months.map((m) => ({ kind: 'window' as const, months: m })),
);
const date = fc.date({
  min: new Date('1999-12-01T00:00:00Z'),
  max: new Date('2100-01-01T00:00:00Z'),
  noInvalidDate: true,
});
/** A purchase date that is often near a month's end (where calendar arithmetic gets interesting). */
const purchaseDate = fc.oneof(
  date,
  fc
    .record({
      y: fc.integer({ min: 2000, max: 2099 }),
      m: fc.integer({ min: 0, max: 11 }),
      d: fc.integer({ min: 28, max: 31 }),
      ms: fc.integer({ min: 0, max: 86_400_000 - 1 }),
    })
    .map(({ y, m, d, ms }) => new Date(Date.UTC(y, m, Math.min(d, daysInMonth(y, m))) + ms)),
);

// ---------------------------------------------------------------------------------------------- the oracle

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** purchase + n calendar months, the day clamped to the target month's length (Postgres, date-fns, java.time). */
function addMonths(at: Date, n: number): Date {
  const index = at.getUTCFullYear() * 12 + at.getUTCMonth() + n;
  const year = Math.floor(index / 12);
  const month = index % 12;
  const day = Math.min(at.getUTCDate(), daysInMonth(year, month));
  const timeOfDay = at.getTime() - Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  return new Date(Date.UTC(year, month, day) + timeOfDay);
}

/** Whether `v` is a pre-release of `M.0.0` (major) or `M.m.0` (minor): below the line's first stable version. */
const firstPre = (v: semver.SemVer, level: 'major' | 'minor') =>
  v.prerelease.length > 0 && v.patch === 0 && (level === 'minor' || v.minor === 0);

/** The expected coverage, computed from semver's parse of each side, independently of the range strings. */
function expected(
  p: UpdatePolicy,
  anchor: string | null,
  now: Date,
  v: { version: string; createdAt: Date },
) {
  if (p.kind === 'window') return v.createdAt.getTime() < addMonths(now, p.months).getTime();
  const a = anchor === null ? null : semver.parse(anchor);
  if (p.kind === 'all' || a === null) return true;
  const x = semver.parse(v.version)!;
  const anchorIsPre = a.prerelease.length > 0;
  if (x.major !== a.major) return false;
  if (p.kind === 'minor' && x.minor !== a.minor) return false;
  return anchorIsPre || !firstPre(x, p.kind);
}

const at = (version: string, createdAt: Date) => ({ version, createdAt });

// ---------------------------------------------------------------------------------------------- properties

describe('update policies (property-based, semver as the oracle)', () => {
  it('covers(entitlementFor(policy, anchor, now), v) agrees with the semver oracle', () => {
    run(
      fc.property(
        policy,
        fc.option(version, { freq: 8 }),
        purchaseDate,
        version,
        date,
        (p, anchor, now, v, created) => {
          const e = entitlementFor(p, anchor, now);
          expect(covers(e, at(v, created))).toBe(expected(p, anchor, now, at(v, created)));
        },
      ),
      2000,
    );
  });

  it('the same, for versions on the anchor line and near its bounds', () => {
    // Versions built from the anchor's own numbers (±1), so both sides of every bound are exercised.
    const near = (a: semver.SemVer) =>
      fc
        .record({
          dM: fc.integer({ min: -1, max: 1 }),
          dm: fc.integer({ min: -1, max: 1 }),
          patch: fc.constantFrom(0, 1, a.patch),
          pre: fc.option(prereleaseIds, { freq: 2 }),
        })
        .filter(({ dM, dm }) => a.major + dM >= 0 && a.minor + dm >= 0)
        .map(
          ({ dM, dm, patch, pre }) =>
            `${a.major + dM}.${a.minor + dm}.${patch}${pre ? `-${pre.join('.')}` : ''}`,
        );
    run(
      fc.property(
        fc.constantFrom<UpdatePolicy>({ kind: 'major' }, { kind: 'minor' }),
        version.chain((anchor) => fc.tuple(fc.constant(anchor), near(semver.parse(anchor)!))),
        purchaseDate,
        (p, [anchor, v], now) => {
          const e = entitlementFor(p, anchor, now);
          const x = at(v, new Date(now.getTime() - 1));
          expect([anchor, v, covers(e, x)]).toEqual([anchor, v, expected(p, anchor, now, x)]);
        },
      ),
      2000,
    );
  });

  it('every versionRange is a valid semver range, and only windows carry an updatesUntil', () => {
    run(
      fc.property(policy, fc.option(version, { freq: 8 }), purchaseDate, (p, anchor, now) => {
        const e = entitlementFor(p, anchor, now);
        expect(semver.validRange(e.versionRange)).not.toBeNull();
        expect(e.updatesUntil === null).toBe(p.kind !== 'window');
      }),
    );
  });

  it('minor is exactly ~M.m.0, and major exactly ^M.0.0 for M >= 1, on stable anchors (design.md §6)', () => {
    run(
      fc.property(stableVersion, version, purchaseDate, (anchor, v, now) => {
        const a = semver.parse(anchor)!;
        const opts = { includePrerelease: true };
        const minor = entitlementFor({ kind: 'minor' }, anchor, now);
        expect(semver.satisfies(v, minor.versionRange, opts)).toBe(
          semver.satisfies(v, `~${a.major}.${a.minor}.0`, opts),
        );
        const major = entitlementFor({ kind: 'major' }, anchor, now);
        if (a.major >= 1)
          expect(semver.satisfies(v, major.versionRange, opts)).toBe(
            semver.satisfies(v, `^${a.major}.0.0`, opts),
          );
        // On 0.x, major is the whole 0.x line (not `^0.0.0`, which semver narrows to 0.0.x).
        else
          expect(semver.satisfies(v, major.versionRange, opts)).toBe(
            semver.major(v) === 0 && !firstPre(semver.parse(v)!, 'major'),
          );
      }),
    );
  });

  it('always covers the anchor itself, whatever the policy (the buyer gets at least what they saw)', () => {
    run(
      fc.property(policy, version, purchaseDate, (p, anchor, now) => {
        const e = entitlementFor(p, anchor, now);
        expect([anchor, e.versionRange, covers(e, at(anchor, new Date(now.getTime() - 1)))]).toEqual([
          anchor,
          e.versionRange,
          true,
        ]);
      }),
    );
  });

  it('nesting: minor ⊆ major ⊆ all, for the same anchor', () => {
    run(
      fc.property(fc.option(version, { freq: 8 }), purchaseDate, version, date, (anchor, now, v, created) => {
        const x = at(v, created);
        const minor = covers(entitlementFor({ kind: 'minor' }, anchor, now), x);
        const major = covers(entitlementFor({ kind: 'major' }, anchor, now), x);
        const all = covers(entitlementFor({ kind: 'all' }, anchor, now), x);
        expect(all).toBe(true);
        if (minor) expect(major).toBe(true);
      }),
    );
  });

  it('window: every version created before the purchase is covered; none created at or after the cut-off', () => {
    run(
      fc.property(
        months,
        purchaseDate,
        version,
        fc.option(version),
        fc.nat({ max: 10 * 365 * 86_400_000 }),
        (n, now, v, anchor, dt) => {
          const e = entitlementFor({ kind: 'window', months: n }, anchor, now);
          const until = e.updatesUntil!;
          expect(e.versionRange).toBe('*');
          expect(covers(e, at(v, new Date(now.getTime() - dt)))).toBe(true);
          expect(covers(e, at(v, new Date(until.getTime() + dt)))).toBe(false);
          expect(covers(e, at(v, new Date(until.getTime() - 1)))).toBe(true);
        },
      ),
    );
  });

  it('window: the cut-off is purchase + N calendar months, ending inside the N-th month after the purchase', () => {
    run(
      fc.property(months, purchaseDate, (n, now) => {
        const until = entitlementFor({ kind: 'window', months: n }, null, now).updatesUntil!;
        const monthIndex = (d: Date) => d.getUTCFullYear() * 12 + d.getUTCMonth();
        expect([now.toISOString(), n, monthIndex(until) - monthIndex(now)]).toEqual([
          now.toISOString(),
          n,
          n,
        ]);
        expect(until.toISOString()).toBe(addMonths(now, n).toISOString());
      }),
      2000,
    );
  });

  it('window monotonicity: more months never cover fewer versions', () => {
    run(
      fc.property(months, months, purchaseDate, version, date, (m1, m2, now, v, created) => {
        const [short, long] = m1 <= m2 ? [m1, m2] : [m2, m1];
        const a = entitlementFor({ kind: 'window', months: short }, null, now);
        const b = entitlementFor({ kind: 'window', months: long }, null, now);
        expect(a.updatesUntil!.getTime()).toBeLessThanOrEqual(b.updatesUntil!.getTime());
        if (covers(a, at(v, created))) expect(covers(b, at(v, created))).toBe(true);
      }),
    );
  });

  it('window monotonicity: buying k days later never ends the window earlier', () => {
    run(
      fc.property(months, purchaseDate, fc.integer({ min: 1, max: 400 }), (n, now, k) => {
        const later = new Date(now.getTime() + k * 86_400_000);
        const a = entitlementFor({ kind: 'window', months: n }, null, now).updatesUntil!;
        const b = entitlementFor({ kind: 'window', months: n }, null, later).updatesUntil!;
        expect([now.toISOString(), later.toISOString(), b.getTime() >= a.getTime()]).toEqual([
          now.toISOString(),
          later.toISOString(),
          true,
        ]);
      }),
      2000,
    );
  });

  it('a later updatesUntil never covers fewer versions (covers is monotone in the cut-off)', () => {
    run(
      fc.property(version, date, date, date, (v, created, u1, u2) => {
        const [early, late] = u1.getTime() <= u2.getTime() ? [u1, u2] : [u2, u1];
        const x = at(v, created);
        if (covers({ versionRange: '*', updatesUntil: early }, x))
          expect(covers({ versionRange: '*', updatesUntil: late }, x)).toBe(true);
        expect(covers({ versionRange: '*', updatesUntil: null }, x)).toBe(true);
      }),
    );
  });

  it('entitlementFor is pure: same inputs, same output, and purchasedAt is not mutated', () => {
    run(
      fc.property(policy, fc.option(version), purchaseDate, (p, anchor, now) => {
        const before = now.getTime();
        const a = entitlementFor(p, anchor, now);
        const b = entitlementFor(p, anchor, new Date(before));
        expect(now.getTime()).toBe(before);
        expect(a).toEqual(b);
      }),
    );
  });

  it('newestStable: the greatest stable version if any, else the greatest version, else null; order-independent', () => {
    const junk = fc.constantFrom('', 'latest', '1.0', 'v', '1.2.3.4', '01.0.0');
    run(
      fc.property(
        fc.array(fc.oneof({ weight: 5, arbitrary: version }, { weight: 1, arbitrary: junk }), {
          maxLength: 12,
        }),
        (list) => {
          const valid = list.filter((x) => semver.valid(x) !== null);
          const stable = valid.filter((x) => semver.prerelease(x) === null);
          const got = newestStable(list);
          const shuffled = newestStable([...list].reverse());
          if (valid.length === 0) {
            expect(got).toBeNull();
            return;
          }
          expect(got).not.toBeNull();
          expect(list).toContain(got);
          const pool = stable.length > 0 ? stable : valid;
          expect(pool).toContain(got);
          for (const x of pool) expect(semver.lte(x, got!)).toBe(true);
          expect(semver.eq(shuffled!, got!)).toBe(true);
        },
      ),
    );
  });

  it('end to end: the license bought at checkout covers the version the anchor names', () => {
    run(
      fc.property(
        fc.array(version, { minLength: 1, maxLength: 8 }),
        policy,
        purchaseDate,
        (published, p, now) => {
          const anchor = newestStable(published)!;
          const e = entitlementFor(p, anchor, now);
          expect([published, covers(e, at(anchor, new Date(now.getTime() - 1)))]).toEqual([published, true]);
        },
      ),
    );
  });
});
