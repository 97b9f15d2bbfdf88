const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/**
 * `<name>-<version>` is ambiguous when either part holds dashes (`a-b-1.0.0-rc-1`): returns every
 * split where the left is a valid chart name and the right strict SemVer. Usually one.
 */
export function chartFileCandidates(base: string): Array<{ name: string; version: string }> {
  const out: Array<{ name: string; version: string }> = [];
  if (base.length > 320) return out;
  for (let i = base.indexOf('-'); i > 0; i = base.indexOf('-', i + 1)) {
    const name = base.slice(0, i);
    const version = base.slice(i + 1);
    if (name.length <= 63 && NAME.test(name) && SEMVER.test(version)) out.push({ name, version });
  }
  return out;
}
