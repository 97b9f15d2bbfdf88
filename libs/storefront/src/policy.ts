import semver from 'semver';
import { covers, entitlementFor, newestStable, UpdatePolicy } from '@berth/licensing';

export interface Coverage {
  /** The update policy as a buyer reads it. */
  sentence: string;
  /** The versions (of those given) that a license bought at `at` opens. */
  covered: string[];
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** What buying now would give: the policy in words and the versions it opens today. */
export function coverageToday(
  policy: { kind: string; months?: number },
  versions: Array<{ version: string; created: Date }>,
  at: Date,
): Coverage {
  const typed = toPolicy(policy);
  const anchor = newestStable(versions.map((v) => v.version));
  const e = entitlementFor(typed, anchor, at);
  const covered = versions
    .filter((v) => covers(e, { version: v.version, createdAt: v.created }))
    .map((v) => v.version);
  const base = anchor ? semver.parse(anchor) : null;
  let sentence: string;
  switch (typed.kind) {
    case 'all':
      sentence = 'Every version, and every future release.';
      break;
    case 'major':
      sentence = base
        ? `Updates for all ${base.major}.x releases.`
        : 'Every version, and every future release.';
      break;
    case 'minor':
      sentence = base
        ? `Updates for all ${base.major}.${base.minor}.x releases.`
        : 'Every version, and every future release.';
      break;
    case 'window':
      sentence = `Updates until ${day(e.updatesUntil!)}; keep what you have after that.`;
      break;
  }
  return { sentence, covered };
}

function toPolicy(p: { kind: string; months?: number }): UpdatePolicy {
  if (p.kind === 'window') return { kind: 'window', months: p.months ?? 12 };
  if (p.kind === 'major' || p.kind === 'minor') return { kind: p.kind };
  return { kind: 'all' };
}
