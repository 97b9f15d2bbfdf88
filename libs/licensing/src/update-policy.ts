import semver from 'semver';

export type UpdatePolicy =
  { kind: 'all' } | { kind: 'major' } | { kind: 'minor' } | { kind: 'window'; months: number };

export interface Entitlement {
  versionRange: string;
  updatesUntil: Date | null;
}

/**
 * Fixes a purchase's coverage from the update policy and the newest stable version at that moment.
 * Ranges are written as explicit bounds (never `^0.x`, whose caret semantics narrow for 0.x versions),
 * with `-0` upper bounds so pre-releases of the next line are excluded. A pre-release anchor (a chart with no
 * stable version yet) also gets a `-0` lower bound, so the license covers the very version it was bought on.
 * A window ends N calendar months after the purchase, on the same day of the month or the target month's last
 * day when it is shorter (31 Jan + 1 month = 28/29 Feb, as in Postgres, date-fns and java.time).
 */
export function entitlementFor(
  policy: UpdatePolicy,
  newestStable: string | null,
  purchasedAt: Date,
): Entitlement {
  const base = newestStable ? semver.parse(newestStable) : null;
  const pre = base && base.prerelease.length > 0 ? '-0' : '';
  switch (policy.kind) {
    case 'all':
      return { versionRange: '*', updatesUntil: null };
    case 'major':
      if (!base) return { versionRange: '*', updatesUntil: null };
      return { versionRange: `>=${base.major}.0.0${pre} <${base.major + 1}.0.0-0`, updatesUntil: null };
    case 'minor':
      if (!base) return { versionRange: '*', updatesUntil: null };
      return {
        versionRange: `>=${base.major}.${base.minor}.0${pre} <${base.major}.${base.minor + 1}.0-0`,
        updatesUntil: null,
      };
    case 'window': {
      const until = new Date(purchasedAt);
      const day = until.getUTCDate();
      until.setUTCDate(1); // so that setUTCMonth cannot overflow into the following month
      until.setUTCMonth(until.getUTCMonth() + policy.months);
      const lastDay = new Date(Date.UTC(until.getUTCFullYear(), until.getUTCMonth() + 1, 0)).getUTCDate();
      until.setUTCDate(Math.min(day, lastDay));
      return { versionRange: '*', updatesUntil: until };
    }
  }
}

/** Whether a license covers a version: in its range and, for windows, published before the cut-off. */
export function covers(e: Entitlement, version: { version: string; createdAt: Date }): boolean {
  if (!semver.satisfies(version.version, e.versionRange, { includePrerelease: true })) return false;
  return e.updatesUntil === null || version.createdAt.getTime() < e.updatesUntil.getTime();
}

/** The newest version without a pre-release tag, the anchor of `major` and `minor` policies. */
export function newestStable(versions: string[]): string | null {
  const stable = versions
    .filter((v) => semver.valid(v) && semver.prerelease(v) === null)
    .sort(semver.rcompare);
  return stable[0] ?? versions.filter((v) => semver.valid(v)).sort(semver.rcompare)[0] ?? null;
}
