/**
 * What Postgres refuses in `jsonb` (and `text`): U+0000, and UTF-16 surrogates without their pair (a JSON or
 * YAML `\u0000` / `\ud800` escape yields them). A chart that carries one would pass inspection and then fail
 * its INSERT, so the inspector refuses it up front.
 */
// eslint-disable-next-line no-control-regex
const NOT_STORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type Unstorable = 'character' | 'depth';

/**
 * The first reason `value` (a plain JSON value: objects, arrays, strings, numbers, booleans, null) cannot be
 * stored and walked safely: a string or key Postgres refuses, or nesting deeper than `maxDepth` (deep values
 * overflow the stack of recursive code downstream, TypeORM's entity merge included). The walk itself stops
 * at `maxDepth`, so it is bounded whatever the input.
 */
export function findUnstorable(value: unknown, maxDepth: number): Unstorable | undefined {
  const walk = (v: unknown, depth: number): Unstorable | undefined => {
    if (typeof v === 'string') return NOT_STORABLE.test(v) ? 'character' : undefined;
    if (v === null || typeof v !== 'object') return undefined;
    if (depth >= maxDepth) return 'depth';
    if (Array.isArray(v)) {
      for (const item of v) {
        const why = walk(item, depth + 1);
        if (why) return why;
      }
      return undefined;
    }
    for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
      if (NOT_STORABLE.test(key)) return 'character';
      const why = walk(item, depth + 1);
      if (why) return why;
    }
    return undefined;
  };
  return walk(value, 0);
}

/** Text for a `text` column: U+0000 (which Postgres refuses there) becomes U+FFFD. */
export const storableText = (text: string): string => text.replaceAll(String.fromCharCode(0), '\ufffd');
