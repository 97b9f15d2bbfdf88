/**
 * Small, exact ports of the Go behaviours that decide how Helm reads a `Chart.yaml`:
 * yaml.v2's implicit scalar resolution (YAML 1.1 flavour), `strconv.FormatFloat(v, 'g', -1, 32)` as used by
 * sigs.k8s.io/yaml when a number meets a string field, and Helm's `sanitizeString`.
 *
 * Sources (helm.sh/helm/v3 v3.21.4 → sigs.k8s.io/yaml v1.6.0 → go.yaml.in/yaml/v2 v2.4.4):
 * - yaml.v2 `resolve.go` (`resolve`, `resolveTable`, `resolveMap`, `yamlStyleFloat`)
 * - sigs.k8s.io/yaml `yaml.go` (`convertToJSONableObject`)
 * - helm `pkg/chart/metadata.go` (`sanitizeString`)
 */

/** A value as yaml.v2 decodes it into `interface{}` (timestamps stay strings, as yaml.v2 does for `interface{}`). */
export type GoValue =
  | { readonly kind: 'null' }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'map'; readonly entries: ReadonlyArray<readonly [GoValue, GoValue]> }
  | { readonly kind: 'seq'; readonly items: readonly GoValue[] };

export type GoScalar = Extract<GoValue, { kind: 'null' | 'string' | 'int' | 'float' | 'bool' }>;

export const GO_NULL: GoScalar = { kind: 'null' };
export const goString = (value: string): GoScalar => ({ kind: 'string', value });

const MAX_INT64 = (1n << 63n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;

const RESOLVE_MAP: ReadonlyMap<string, GoScalar> = (() => {
  const m = new Map<string, GoScalar>();
  const add = (v: GoScalar, words: string[]) => words.forEach((w) => m.set(w, v));
  add({ kind: 'bool', value: true }, [
    'y',
    'Y',
    'yes',
    'Yes',
    'YES',
    'true',
    'True',
    'TRUE',
    'on',
    'On',
    'ON',
  ]);
  add({ kind: 'bool', value: false }, [
    'n',
    'N',
    'no',
    'No',
    'NO',
    'false',
    'False',
    'FALSE',
    'off',
    'Off',
    'OFF',
  ]);
  add(GO_NULL, ['', '~', 'null', 'Null', 'NULL']);
  add({ kind: 'float', value: NaN }, ['.nan', '.NaN', '.NAN']);
  add({ kind: 'float', value: Infinity }, ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']);
  add({ kind: 'float', value: -Infinity }, ['-.inf', '-.Inf', '-.INF']);
  return m;
})();

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
// Go's ParseFloat on a "."-led string: digits, optional exponent, "_" allowed only between two digits.
const DOT_FLOAT = /^\.[0-9][0-9_]*([eE][-+]?[0-9][0-9_]*)?$/;
const MISPLACED_UNDERSCORE = /_(?![0-9])|(?<![0-9])_/;

function digitValue(ch: string): number {
  const c = ch.charCodeAt(0);
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 122) return c - 87;
  if (c >= 65 && c <= 90) return c - 55;
  return 99;
}

/** Go's `strconv.ParseUint(s, 0, 64)`; undefined on a syntax or range error. */
export function parseGoUint(s: string): bigint | undefined {
  if (s === '') return undefined;
  let base = 10;
  let digits = s;
  if (s[0] === '0') {
    const prefix = s.length >= 3 ? s[1].toLowerCase() : '';
    if (prefix === 'b') [base, digits] = [2, s.slice(2)];
    else if (prefix === 'o') [base, digits] = [8, s.slice(2)];
    else if (prefix === 'x') [base, digits] = [16, s.slice(2)];
    else [base, digits] = [8, s.slice(1)];
  }
  let n = 0n;
  const b = BigInt(base);
  for (const ch of digits) {
    const d = digitValue(ch);
    if (d >= base) return undefined;
    n = n * b + BigInt(d);
    if (n > MAX_UINT64) return undefined;
  }
  return n;
}

/** Go's `strconv.ParseInt(s, 0, 64)`; undefined on a syntax or range error. */
export function parseGoInt(s: string): bigint | undefined {
  let negative = false;
  let rest = s;
  if (s[0] === '+' || s[0] === '-') {
    negative = s[0] === '-';
    rest = s.slice(1);
  }
  const u = parseGoUint(rest);
  if (u === undefined) return undefined;
  if (negative ? u > MAX_INT64 + 1n : u > MAX_INT64) return undefined;
  return negative ? -u : u;
}

/** yaml.v2 `resolve("", in)` for a plain (unquoted, untagged) scalar. */
export function resolvePlainScalar(input: string): GoScalar {
  const known = RESOLVE_MAP.get(input);
  if (known) return known;
  const first = input[0];
  if (first === '.') {
    if (DOT_FLOAT.test(input) && !MISPLACED_UNDERSCORE.test(input)) {
      const f = Number(input.replaceAll('_', ''));
      if (Number.isFinite(f)) return { kind: 'float', value: f };
    }
    return goString(input);
  }
  const isDigit = first >= '0' && first <= '9';
  if (isDigit || first === '+' || first === '-') {
    // yaml.v2 tries a timestamp first; a timestamp-looking value is kept as its text for interface{} targets,
    // and none of them can parse as a number, so the string fallback below gives the same result.
    const plain = input.replaceAll('_', '');
    const i = parseGoInt(plain);
    if (i !== undefined) return { kind: 'int', value: i };
    const u = parseGoUint(plain);
    if (u !== undefined) return { kind: 'int', value: u };
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = Number(plain);
      if (Number.isFinite(f)) return { kind: 'float', value: f };
    }
  }
  return goString(input);
}

/**
 * yaml.v2 `resolve(tag, in)` for an explicitly tagged scalar (`!!int 12`, `!!str 1.0`, …). Throws when the
 * text does not fit the tag, as yaml.v2 does.
 */
export function resolveTaggedScalar(tag: string, input: string): GoScalar {
  switch (tag) {
    case 'str':
    case 'timestamp':
      return goString(input);
    case 'int':
    case 'float':
    case 'bool':
    case 'null': {
      const r = resolvePlainScalar(input);
      if (r.kind === tag) return r;
      if (tag === 'float' && r.kind === 'int') return { kind: 'float', value: Number(r.value) };
      throw new Error(`cannot decode a ${r.kind} as a ${tag}`);
    }
    default:
      throw new Error(`unsupported tag ${tag}`);
  }
}

/** The exact decimal expansion of a positive finite float32: value = 0.<digits> × 10^dp, no trailing zeros. */
function exactFloat32Digits(abs: number): { digits: string; dp: number } {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, abs);
  const bits = view.getUint32(0);
  const biased = (bits >>> 23) & 0xff;
  const fraction = bits & 0x7fffff;
  const mantissa = BigInt(biased === 0 ? fraction : fraction | 0x800000);
  const exp2 = (biased === 0 ? 1 : biased) - 127 - 23;
  // mantissa × 2^exp2 = mantissa × 5^-exp2 × 10^exp2 when exp2 < 0
  const n = exp2 >= 0 ? mantissa << BigInt(exp2) : mantissa * 5n ** BigInt(-exp2);
  const all = n.toString();
  const dp = all.length + Math.min(exp2, 0);
  return { digits: all.replace(/0+$/, ''), dp };
}

/** Rounds 0.<digits> × 10^dp to `p` significant digits, ties to even (as Go's shortest formatting does). */
function roundDigits(digits: string, dp: number, p: number): { digits: string; dp: number } {
  if (digits.length <= p) return { digits, dp };
  const head = digits.slice(0, p);
  const rest = digits.slice(p);
  const up =
    rest[0] > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || Number(head[p - 1]) % 2 === 1));
  if (!up) return { digits: head.replace(/0+$/, ''), dp };
  const next = (BigInt(head) + 1n).toString();
  return next.length > p
    ? { digits: next.slice(0, p).replace(/0+$/, ''), dp: dp + 1 }
    : { digits: next.replace(/0+$/, ''), dp };
}

/** Go's `strconv.FormatFloat(v, 'g', -1, 32)`: float32 rounding, shortest round-trip digits, %e when exp < -4 || exp >= 6. */
export function formatGoFloat32(v: number): string {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const sign = f < 0 ? '-' : '';
  const abs = Math.abs(f);
  const exact = exactFloat32Digits(abs);
  let shortest = exact;
  for (let p = 1; p < exact.digits.length; p++) {
    const r = roundDigits(exact.digits, exact.dp, p);
    if (Math.fround(Number(`0.${r.digits}e${r.dp}`)) === abs) {
      shortest = r;
      break;
    }
  }
  const { digits, dp } = shortest;
  const exp = dp - 1;
  // Go: with the shortest precision, %e is used when exp < -4 || exp >= 6 (eprec is fixed at 6).
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (dp <= 0) return `${sign}0.${'0'.repeat(-dp)}${digits}`;
  if (dp >= digits.length) return `${sign}${digits}${'0'.repeat(dp - digits.length)}`;
  return `${sign}${digits.slice(0, dp)}.${digits.slice(dp)}`;
}

/** sigs.k8s.io/yaml: how a scalar becomes a JSON string when the Go target field is a string. */
export function scalarToGoString(v: GoScalar): string | null {
  switch (v.kind) {
    case 'null':
      return null;
    case 'string':
      return v.value;
    case 'int':
      return v.value.toString();
    case 'float':
      return formatGoFloat32(v.value);
    case 'bool':
      return v.value ? 'true' : 'false';
  }
}

/** sigs.k8s.io/yaml: how a map key becomes a JSON object key; undefined for keys it refuses (null). */
export function mapKeyToGoString(k: GoValue): string | undefined {
  switch (k.kind) {
    case 'string':
      return k.value;
    case 'int':
      return k.value.toString();
    case 'bool':
      return k.value ? 'true' : 'false';
    case 'float': {
      const s = formatGoFloat32(k.value);
      return s === '+Inf' ? '.inf' : s === '-Inf' ? '-.inf' : s === 'NaN' ? '.nan' : s;
    }
    default:
      return undefined;
  }
}

const WHITE_SPACE = /\p{White_Space}/gu;
const NOT_PRINTABLE = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/gu;

/** Helm's `sanitizeString`: every Unicode space becomes ' ', every other non-printable rune is dropped. */
export function sanitizeGoString(s: string): string {
  return s.replace(WHITE_SPACE, ' ').replace(NOT_PRINTABLE, '');
}

/** Go's `foldName` from encoding/json, enough to compare against ASCII field names. */
export function foldGoFieldName(s: string): string {
  return s.replace(/[a-z\u017f\u212a]/g, (c) =>
    c === '\u017f' ? 'S' : c === '\u212a' ? 'K' : c.toUpperCase(),
  );
}
