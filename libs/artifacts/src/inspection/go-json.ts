/**
 * The two steps between yaml.v2's `interface{}` value and Helm's `chart.Metadata` struct, as sigs.k8s.io/yaml
 * performs them: `convertToJSONableObject` (numbers and bools meeting a string field become strings, map keys
 * become strings), then encoding/json `Unmarshal` into the typed struct — which matches field names
 * case-insensitively, ignores unknown keys, treats `null` as "leave as is" for strings and bools, and decodes
 * into the existing value (that is how `requirements.yaml` overlays `Chart.yaml` in Helm's loader).
 */
import { foldGoFieldName, type GoValue, mapKeyToGoString, scalarToGoString } from './go-semantics';

/** A Go type, as far as the Metadata struct needs. */
export type GoType =
  | { readonly kind: 'string' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'interface' }
  | { readonly kind: 'slice'; readonly elem: GoType }
  | { readonly kind: 'stringMap' }
  | { readonly kind: 'struct'; readonly fields: readonly GoField[] }
  | { readonly kind: 'ptr'; readonly elem: Extract<GoType, { kind: 'struct' }> };

export interface GoField {
  /** The JSON name from the struct tag. */
  readonly json: string;
  readonly type: GoType;
  readonly omitempty: boolean;
}

/** A JSON value in flight; objects are Maps so no key can reach a prototype. */
export type Json = null | string | number | boolean | Json[] | Map<string, Json>;

/** A decoded Go struct: field JSON name → value (strings, booleans, arrays or null for nil, Maps). */
export type GoStruct = { [field: string]: unknown };

/**
 * Why a value could not be decoded. `path` names known struct fields and list indices only (never a key or a
 * value taken from the document), e.g. `maintainers[0].name`; '' is the document itself.
 */
export class GoDecodeError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path || 'document'} ${problem}`);
    this.name = 'GoDecodeError';
  }
}

const child = (path: string, field: string) => (path ? `${path}.${field}` : field);

const STRING: GoType = { kind: 'string' };

function findField(type: Extract<GoType, { kind: 'struct' }>, key: string): GoField | undefined {
  const exact = type.fields.find((f) => f.json === key);
  if (exact) return exact;
  const folded = foldGoFieldName(key);
  return type.fields.find((f) => foldGoFieldName(f.json) === folded);
}

function structOf(type: GoType | undefined): Extract<GoType, { kind: 'struct' }> | undefined {
  if (type?.kind === 'struct') return type;
  if (type?.kind === 'ptr') return type.elem;
  return undefined;
}

/** sigs.k8s.io/yaml `convertToJSONableObject` followed by the checks `json.Marshal` makes. */
export function toJsonable(value: GoValue, target: GoType | undefined, path: string): Json {
  switch (value.kind) {
    case 'map': {
      const struct = structOf(target);
      const out = new Map<string, Json>();
      for (const [k, v] of value.entries) {
        const key = mapKeyToGoString(k);
        if (key === undefined) throw new GoDecodeError(path, 'has a map key that is not a string or number');
        if (out.has(key)) throw new GoDecodeError(path, 'has two keys that read as the same key');
        const field = struct ? findField(struct, key) : undefined;
        const type = field ? field.type : target?.kind === 'stringMap' ? STRING : undefined;
        out.set(key, toJsonable(v, type, field ? child(path, field.json) : path));
      }
      return out;
    }
    case 'seq': {
      const elem = target?.kind === 'slice' ? target.elem : undefined;
      return value.items.map((item, i) => toJsonable(item, elem, `${path}[${i}]`));
    }
    default: {
      if (target?.kind === 'string') return scalarToGoString(value);
      switch (value.kind) {
        case 'null':
          return null;
        case 'string':
        case 'bool':
          return value.value;
        case 'int':
          return Number(value.value);
        case 'float':
          if (!Number.isFinite(value.value))
            throw new GoDecodeError(path, 'holds a number JSON cannot encode');
          return value.value;
      }
    }
  }
}

function typeError(path: string, expected: string): GoDecodeError {
  return new GoDecodeError(path, `must be ${expected}`);
}

/** A Go zero value for a type: "" / false / nil. */
export function zeroOf(type: GoType): unknown {
  switch (type.kind) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'struct':
      return Object.fromEntries(type.fields.map((f) => [f.json, zeroOf(f.type)]));
    default:
      return null;
  }
}

/** encoding/json `Unmarshal` of `json` into an existing Go value of type `type`; returns the new value. */
export function decodeInto(type: GoType, existing: unknown, json: Json, path: string): unknown {
  switch (type.kind) {
    case 'string':
      if (json === null) return existing;
      if (typeof json !== 'string') throw typeError(path, 'a string');
      return json;
    case 'bool':
      if (json === null) return existing;
      if (typeof json !== 'boolean') throw typeError(path, 'a boolean');
      return json;
    case 'interface':
      return toPlain(json);
    case 'slice': {
      if (json === null) return null;
      if (!Array.isArray(json)) throw typeError(path, 'a list');
      // Elements are decoded into the elements already there (Go reuses the slice's backing array).
      const old = Array.isArray(existing) ? existing : [];
      return json.map((j, i) =>
        decodeInto(type.elem, i < old.length ? old[i] : zeroOf(type.elem), j, `${path}[${i}]`),
      );
    }
    case 'stringMap': {
      if (json === null) return null;
      if (!(json instanceof Map)) throw typeError(path, 'a mapping of strings');
      const out = new Map<string, string>(existing instanceof Map ? (existing as Map<string, string>) : []);
      for (const [k, v] of json) out.set(k, decodeInto(STRING, '', v, `${path} values`) as string);
      return out;
    }
    case 'ptr':
      if (json === null) return null;
      return decodeInto(type.elem, existing ?? zeroOf(type.elem), json, path);
    case 'struct': {
      if (json === null) return existing;
      if (!(json instanceof Map)) throw typeError(path, 'a mapping');
      const out: GoStruct = { ...(existing as GoStruct) };
      const seen = new Set<string>();
      for (const [key, v] of json) {
        const field = findField(type, key);
        if (!field) continue;
        // Go would let the later of two case variants win (`name` and `Name`); refuse the ambiguity.
        if (seen.has(field.json))
          throw new GoDecodeError(child(path, field.json), 'is set twice (keys differ only in case)');
        seen.add(field.json);
        out[field.json] = decodeInto(field.type, out[field.json], v, child(path, field.json));
      }
      return out;
    }
  }
}

/** A JSON value as `interface{}` holds it, as a plain JS value (objects built with own properties only). */
export function toPlain(json: Json): unknown {
  if (json instanceof Map) return Object.fromEntries([...json].map(([k, v]) => [k, toPlain(v)]));
  if (Array.isArray(json)) return json.map(toPlain);
  return json;
}

/** Go byte-wise string order (json.Marshal sorts map keys this way). */
export function compareGoStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** encoding/json `Marshal` with `omitempty`, to plain JS values; struct fields in declaration order. */
export function marshal(type: GoType, value: unknown): unknown {
  switch (type.kind) {
    case 'string':
    case 'bool':
    case 'interface':
      return value;
    case 'slice':
      return value === null ? null : (value as unknown[]).map((v) => marshal(type.elem, v));
    case 'stringMap': {
      if (value === null) return null;
      const entries = [...(value as Map<string, string>)].sort(([a], [b]) => compareGoStrings(a, b));
      return Object.fromEntries(entries);
    }
    case 'ptr':
      return value === null ? null : marshal(type.elem, value);
    case 'struct': {
      const s = value as GoStruct;
      const entries: Array<[string, unknown]> = [];
      for (const f of type.fields) {
        const v = s[f.json];
        if (f.omitempty && isEmpty(v)) continue;
        entries.push([f.json, marshal(f.type, v)]);
      }
      return Object.fromEntries(entries);
    }
  }
}

/** Go's omitempty: false, "", nil, and zero-length slices and maps. */
function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof Map) return v.size === 0;
  return false;
}
