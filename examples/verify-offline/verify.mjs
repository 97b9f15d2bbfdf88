#!/usr/bin/env node
// Offline check of a Berth license key, with nothing but Node's own crypto and the store's JWKS.
//
//   node verify.mjs <jwks.json file or URL> <license key> [--issuer https://store.example.com]
//                   [--publisher acme --chart superdb] [--version 1.2.3 [--published 2026-01-31T12:00:00Z]]
//
// Prints a JSON verdict and exits 0 when the key is valid, 1 when it is not, 2 on a usage error.
//
// - `--chart` needs `--publisher`: chart names are unique per publisher only, so another publisher could
//   sell (and sign a key for) a chart of the same name.
// - `--version` is checked against the key's range. A key with an update window (`upd` claim) covers only
//   versions published before that instant, which the key cannot know offline: pass the version's
//   publication time with `--published` (its `created` in the repository's index.yaml, or in
//   GET /v1/catalog/{publisher}/{chart}); without it such a key fails closed (`published_required`).
//
// Revocation cannot be seen offline: call POST /v1/licenses/verify when the software can reach the store.
import { createPublicKey, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

const PREFIX = 'berth_lic_';
const USAGE =
  'usage: node verify.mjs <jwks.json|URL> <license key> [--issuer URL] [--publisher SLUG --chart NAME] [--version X.Y.Z [--published ISO-8601]]\n';
const OPTIONS = new Set(['issuer', 'publisher', 'chart', 'version', 'published']);

function fail(reason) {
  process.stdout.write(`${JSON.stringify({ valid: false, reason })}\n`);
  process.exit(1);
}

function usage(problem) {
  process.stderr.write(`${problem}\n${USAGE}`);
  process.exit(2);
}

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

// SemVer 2.0.0 (semver.org's regular expression), with the leading "v" that the store's semver
// library also accepts. Build metadata is ignored when comparing.
const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function parseVersion(v) {
  const m = typeof v === 'string' ? SEMVER.exec(v.trim()) : null;
  if (!m) return null;
  const core = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!core.every(Number.isSafeInteger)) return null;
  return { core, pre: m[4] ? m[4].split('.') : [] };
}

// Pre-releases sort below their release (1.0.0-rc.1 < 1.0.0); numeric identifiers compare as numbers and
// below alphanumeric ones.
export function compareVersions(a, b) {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i] < b.core[i] ? -1 : 1;
  if (!a.pre.length || !b.pre.length) return b.pre.length - a.pre.length; // a release is above its pre-releases
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Number(x) < Number(y) ? -1 : 1;
    if (nx !== ny) return nx ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const TESTS = {
  '': (c) => c === 0,
  '=': (c) => c === 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

/**
 * Whether `version` is in `range`, for the ranges the store writes into keys: `*`, or comparator sets
 * such as `>=1.2.0 <2.0.0-0`, joined by `||` (custom grants are stored in semver's normalised form,
 * e.g. `>=1.0.0 <3.0.0-0||>=5.0.0 <6.0.0-0`). Like the store, a pre-release is compared as it is
 * (semver's includePrerelease): `>=1.0.0` excludes 1.0.0-rc.1, `<2.0.0-0` excludes 2.0.0-*.
 * A range this verifier does not understand (`^`, `~`, x-ranges, hyphens) covers nothing: fail closed.
 */
export function inRange(version, range) {
  const v = parseVersion(version);
  if (!v || typeof range !== 'string') return false;
  // Any one set (alternatives joined by ||) whose comparators all hold; a set with a comparator this
  // verifier cannot read never matches.
  return range.split('||').some((set) => {
    const comparators = set.trim().split(/\s+/).filter(Boolean);
    return (
      comparators.length > 0 &&
      comparators.every((comparator) => {
        if (comparator === '*') return true;
        const m = /^(<=|>=|<|>|=)?(\d.*)$/.exec(comparator);
        const bound = m && parseVersion(m[2]);
        return !!bound && TESTS[m[1] ?? ''](compareVersions(v, bound));
      })
    );
  });
}

// An instant in ISO 8601 (a date, or a date and time with seconds optional, `Z` or an offset).
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

export function parseInstant(s) {
  if (typeof s !== 'string' || !ISO_INSTANT.test(s)) return null;
  const t = Date.parse(s);
  if (Number.isNaN(t)) return null;
  // Date.parse rolls 2026-02-30 over into March: refuse dates that are not on the calendar.
  const [y, mo, d] = s.slice(0, 10).split('-').map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d ? t : null;
}

function parseArgs(argv) {
  const [source, key, ...rest] = argv;
  if (!source || !key) usage('the JWKS and the license key are required');
  const opts = {};
  for (let i = 0; i < rest.length; i += 2) {
    const name = /^--([a-z]+)$/.exec(rest[i])?.[1];
    if (!name || !OPTIONS.has(name)) usage(`unknown option ${rest[i]}`);
    if (rest[i + 1] === undefined || rest[i + 1].startsWith('--')) usage(`--${name} needs a value`);
    if (name in opts) usage(`--${name} given twice`);
    opts[name] = rest[i + 1];
  }
  if (opts.chart !== undefined && opts.publisher === undefined) {
    usage('--chart needs --publisher: a chart name is only unique within its publisher');
  }
  if (opts.published !== undefined) {
    if (opts.version === undefined) usage('--published is the publication time of --version: give both');
    if (parseInstant(opts.published) === null)
      usage('--published must be an ISO 8601 date or date-time, e.g. 2026-01-31T12:00:00Z');
  }
  return { source, key, opts };
}

async function main() {
  const { source, key, opts } = parseArgs(process.argv.slice(2));

  const jwks = JSON.parse(
    /^https?:\/\//.test(source) ? await (await fetch(source)).text() : await readFile(source, 'utf8'),
  );
  if (!key.startsWith(PREFIX)) fail('malformed');
  const parts = key.slice(PREFIX.length).split('.');
  if (parts.length !== 3) fail('malformed');
  let header, claims;
  try {
    header = b64json(parts[0]);
    claims = b64json(parts[1]);
  } catch {
    fail('malformed');
  }
  if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object') fail('malformed');
  const jwk = (jwks.keys ?? []).find((k) => k.kid === header.kid);
  if (!jwk) fail('unknown_key');
  // The algorithm is the key's, never the token's: a token claiming "none" or "HS256" is refused.
  if (jwk.alg !== 'ES256' || header.alg !== 'ES256') fail('bad_signature');
  const publicKey = createPublicKey({
    key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
    format: 'jwk',
  });
  const ok = verify(
    'sha256',
    Buffer.from(`${parts[0]}.${parts[1]}`),
    { key: publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(parts[2], 'base64url'),
  );
  if (!ok) fail('bad_signature');
  if (opts.issuer !== undefined && claims.iss !== opts.issuer) fail('wrong_issuer');
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) fail('expired');
  if (opts.publisher !== undefined && claims.pub !== opts.publisher) fail('wrong_publisher');
  if (opts.chart !== undefined && claims.chart !== opts.chart) fail('wrong_chart');
  if (opts.version !== undefined) {
    if (!inRange(opts.version, claims.range)) fail('version_not_covered');
    // An update window ("updates until"): like the store, only versions published strictly before it.
    if (claims.upd !== null && claims.upd !== undefined) {
      const until = parseInstant(claims.upd);
      if (until === null) fail('malformed');
      if (opts.published === undefined) fail('published_required');
      if (!(parseInstant(opts.published) < until)) fail('version_not_covered');
    }
  }
  process.stdout.write(
    `${JSON.stringify({ valid: true, license: { id: claims.sub, publisher: claims.pub, chart: claims.chart, versionRange: claims.range, updatesUntil: claims.upd } })}\n`,
  );
}

// Runs as a command; imported (for its range functions), it does nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  });
}
