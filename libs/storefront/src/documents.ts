import { diffLines } from 'diff';

export interface DiffLine {
  kind: 'add' | 'del' | 'same';
  text: string;
}

/**
 * Beyond this many bytes on both sides together a diff is not computed: Myers' diff is quadratic in the
 * worst case, and a page must answer in milliseconds whatever two files a publisher uploaded.
 */
export const MAX_DIFF_BYTES = 256 * 1024;

/** Line diff from `from` to `to`; null when the files are too large to compare on a page. */
export function diffValues(from: string, to: string): DiffLine[] | null {
  if (Buffer.byteLength(from) + Buffer.byteLength(to) > MAX_DIFF_BYTES) return null;
  const lines: DiffLine[] = [];
  for (const part of diffLines(from, to)) {
    const kind = part.added ? 'add' : part.removed ? 'del' : 'same';
    for (const text of part.value.replace(/\n$/, '').split('\n')) lines.push({ kind, text });
  }
  return lines;
}

export interface SchemaRow {
  path: string;
  type: string;
  required: boolean;
  default: string | null;
  description: string | null;
}

const MAX_SCHEMA_DEPTH = 8;
const MAX_SCHEMA_ROWS = 500;
const MAX_CELL = 500;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const cell = (v: unknown): string | null => {
  if (v === undefined) return null;
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL)}…` : text;
};

/**
 * `values.schema.json` as table rows: one per property, nested properties as dotted paths, up to a depth
 * and a row count (the schema is the publisher's; a page stays bounded whatever it holds).
 */
export function schemaRows(schema: unknown): { rows: SchemaRow[]; truncated: boolean } {
  const rows: SchemaRow[] = [];
  let truncated = false;
  const walk = (node: unknown, prefix: string, depth: number) => {
    if (!isObject(node) || !isObject(node.properties)) return;
    const required = new Set(
      Array.isArray(node.required) ? node.required.filter((r) => typeof r === 'string') : [],
    );
    for (const [name, prop] of Object.entries(node.properties)) {
      if (rows.length >= MAX_SCHEMA_ROWS) {
        truncated = true;
        return;
      }
      const path = prefix ? `${prefix}.${name}` : name;
      const p = isObject(prop) ? prop : {};
      const type = Array.isArray(p.type)
        ? p.type.map(String).join(' | ')
        : typeof p.type === 'string'
          ? p.type
          : '';
      rows.push({
        path,
        type: type || (isObject(p.properties) ? 'object' : ''),
        required: required.has(name),
        default: cell(p.default),
        description: cell(p.description ?? p.title),
      });
      if (depth + 1 >= MAX_SCHEMA_DEPTH) {
        if (isObject(p.properties)) truncated = true;
      } else walk(p, path, depth + 1);
    }
  };
  walk(schema, '', 0);
  return { rows, truncated };
}

export interface ChangeEntry {
  kind: string | null;
  description: string;
}

/**
 * `artifacthub.io/changes` as Artifact Hub reads it: a YAML list of strings or of `{kind, description}`
 * objects (stored as published: the annotation is a string holding YAML). Anything else yields nothing.
 */
export function changelog(annotation: unknown, parse: (yaml: string) => unknown): ChangeEntry[] {
  let value = annotation;
  if (typeof value === 'string') {
    try {
      value = parse(value);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(value)) return [];
  const out: ChangeEntry[] = [];
  for (const item of value.slice(0, 100)) {
    if (typeof item === 'string' && item.trim()) out.push({ kind: null, description: item.trim() });
    else if (isObject(item) && typeof item.description === 'string' && item.description.trim())
      out.push({
        kind: typeof item.kind === 'string' ? item.kind : null,
        description: item.description.trim(),
      });
  }
  return out;
}
