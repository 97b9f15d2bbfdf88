import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * House rule: every stable error code is written once, in its owner's `defineErrors` table (a library's
 * `errors.ts`, the inspector's `codes.ts`, the edge's `http-errors.ts`), and thrown through the factory that
 * table returns. These scans keep string-literal codes out of throw sites and `sendError` bodies.
 */
const ROOT = join(__dirname, '../../../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === '__fixtures__' || e.name === 'testing' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const FILES = [...sources(join(ROOT, 'apps')), ...sources(join(ROOT, 'libs'))].map((path) => ({
  path: relative(ROOT, path),
  text: readFileSync(path, 'utf8'),
}));

function hits(pattern: RegExp, except: (path: string) => boolean = () => false): string[] {
  return FILES.filter((f) => !except(f.path)).flatMap((f) =>
    [...f.text.matchAll(pattern)].map((m) => {
      const line = f.text.slice(0, m.index).split('\n').length;
      return `${f.path}:${line}: ${m[0].replace(/\s+/g, ' ')}`;
    }),
  );
}

/** The stable codes each table file declares (its `…ErrorCode` enums or `as const` objects). */
function declaredCodes(): { code: string; where: string }[] {
  return FILES.filter((f) => f.text.includes('defineErrors(') && !f.path.startsWith('libs/common/')).flatMap(
    (f) =>
      [...f.text.matchAll(/(?:enum \w+|const \w+ =) \{([^}]*)\}/g)].flatMap((block) =>
        [...block[1].matchAll(/^\s*(\w+)\s*[=:]\s*'([^']*)'/gm)].map((m) => ({
          code: m[2],
          where: `${f.path} ${m[1]}`,
        })),
      ),
  );
}

describe('error codes: one declaration each, no string literals at throw sites', () => {
  it('builds a DomainError only through defineErrors', () => {
    expect(hits(/new DomainError\(/g, (p) => p === 'libs/common/src/error-catalog.ts')).toEqual([]);
  });

  it('passes no string-literal code to an error helper', () => {
    // The per-kind helpers took (code, message); a literal first argument is a code written at a throw site.
    const helper =
      /\b(?:invalid|notFound|conflict|forbidden|unauthenticated|tooLarge|unavailable|rateLimited)\(\s*['"`]/g;
    expect(hits(helper)).toEqual([]);
  });

  it('writes no string-literal code into an error body at the HTTP edge', () => {
    // ErrorBody / sendError objects: `code: 'x'` outside the tables.
    expect(hits(/\bcode:\s*['"`][a-z_]+['"`]/g, (p) => /(errors|codes|http-errors)\.ts$/.test(p))).toEqual(
      [],
    );
  });

  it('declares every code once, in snake_case', () => {
    const declared = declaredCodes();
    // The tables exist (a broken scan must not pass by finding nothing).
    expect(declared.length).toBeGreaterThan(60);
    expect(declared.filter((d) => !/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(d.code))).toEqual([]);
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const d of declared) {
      const first = seen.get(d.code);
      if (first) twice.push(`${d.code}: ${first} and ${d.where}`);
      else seen.set(d.code, d.where);
    }
    expect(twice).toEqual([]);
  });

  it('keeps every code table in a file named for it', () => {
    const tables = FILES.filter((f) => /\bdefineErrors\(/.test(f.text) && !f.path.startsWith('libs/common/'));
    expect(tables.map((f) => f.path).filter((p) => !/\/(errors|codes|http-errors)\.ts$/.test(p))).toEqual([]);
  });
});
