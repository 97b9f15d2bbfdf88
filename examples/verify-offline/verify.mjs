#!/usr/bin/env node
// Offline check of a Berth license key, with nothing but Node's own crypto and the store's JWKS.
//
//   node verify.mjs <jwks.json file or URL> <license key> [--issuer https://store.example.com] [--chart superdb] [--version 1.2.3]
//
// Prints a JSON verdict and exits 0 when the key is valid, 1 when it is not. Revocation cannot be seen
// offline: call POST /v1/licenses/verify when the software can reach the store.
import { createPublicKey, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';

const PREFIX = 'berth_lic_';

function fail(reason) {
  process.stdout.write(`${JSON.stringify({ valid: false, reason })}\n`);
  process.exit(1);
}

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

// A minimal SemVer 2 range check for the ranges Berth writes: "*" or ">=A.B.C <X.Y.Z-0". Pre-releases sort
// below their release (1.0.0-rc.1 < 1.0.0), so ">=1.0.0" excludes 1.0.0-rc.1, and "<2.0.0-0" excludes 2.0.0-*.
function parseVersion(v) {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  return m ? { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.') : [] } : null;
}

function compareVersions(a, b) {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i] - b.core[i];
  if (!a.pre.length || !b.pre.length) return b.pre.length - a.pre.length; // a release is above its pre-releases
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1; // numeric identifiers sort below alphanumeric ones
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function inRange(version, range) {
  const v = parseVersion(version);
  if (!v) return false;
  if (range === '*') return true;
  for (const clause of range.split(/\s+/)) {
    const m = /^(>=|<)(.+)$/.exec(clause);
    const bound = m && parseVersion(m[2]);
    if (!bound) return false; // a range this example does not understand: treat as not covered
    const c = compareVersions(v, bound);
    if (m[1] === '>=' ? c < 0 : c >= 0) return false;
  }
  return true;
}

async function main() {
  const [source, key, ...rest] = process.argv.slice(2);
  if (!source || !key) {
    process.stderr.write('usage: node verify.mjs <jwks.json|URL> <license key> [--issuer URL] [--chart NAME] [--version X.Y.Z]\n');
    process.exit(2);
  }
  const opts = {};
  for (let i = 0; i < rest.length; i += 2) opts[rest[i].replace(/^--/, '')] = rest[i + 1];

  const jwks = JSON.parse(/^https?:\/\//.test(source) ? await (await fetch(source)).text() : await readFile(source, 'utf8'));
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
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) fail('unknown_key');
  // The algorithm is the key's, never the token's: a token claiming "none" or "HS256" is refused.
  if (jwk.alg !== 'ES256' || header.alg !== 'ES256') fail('bad_signature');
  const publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
  const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
  if (!ok) fail('bad_signature');
  if (opts.issuer && claims.iss !== opts.issuer) fail('wrong_issuer');
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) fail('expired');
  if (opts.chart && claims.chart !== opts.chart) fail('wrong_chart');
  if (opts.version && !inRange(opts.version, claims.range)) fail('version_not_covered');
  process.stdout.write(
    `${JSON.stringify({ valid: true, license: { id: claims.sub, publisher: claims.pub, chart: claims.chart, versionRange: claims.range, updatesUntil: claims.upd } })}\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(2);
});
