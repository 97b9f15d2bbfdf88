/**
 * Property-based tests for the chart archive inspector (fast-check).
 *
 * - Random valid charts (DNS-1123 names, strict SemVer 2 versions up to uint64 with pre-release and build
 *   metadata, random Chart.yaml fields in random order, random extra files and directory entries) are accepted,
 *   and the metadata is exactly what was written (Helm's omitempty, struct order, unknown keys dropped).
 * - Random bytes, truncations, bit flips, mutated tar streams and hostile entries (path traversal, links and
 *   devices, second top-level directory, duplicates, missing Chart.yaml, bad names/versions) are refused with a
 *   DomainError carrying one of the stable InspectionErrorCode codes, never another exception, never a hang.
 * - The limits are exact thresholds: an archive passes iff it is within maxEntries / maxFileBytes /
 *   maxDecompressedBytes, and otherwise fails with that limit's code.
 * - Inspection is deterministic and never changes the bytes it is given (the stored digest is sha256 of them).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import semver from 'semver';
import { DomainError, ErrorKind } from '@berth/common';
import {
  type InspectedChart,
  inspectChartArchive,
  InspectionErrorCode,
  type InspectionLimits,
} from './index';
import { paxRecords, rawEntry, type TarEntry, type TarPart, tarBuffer, tgz } from './testing/archives';

/** PROPERTY_RUNS_SCALE=20 for a deeper search (the default keeps the file under ~10 s). */
const SCALE = Number(process.env.PROPERTY_RUNS_SCALE ?? 1);
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * SCALE)) });
const RUNS = 150;
const TEST_TIMEOUT_MS = 60_000 * Math.max(1, SCALE);
const HANG_MS = 5_000;
const MAX_UINT64 = (1n << 64n) - 1n;

const CODES: string[] = Object.values(InspectionErrorCode);
const TOO_LARGE = new Set<string>([
  InspectionErrorCode.ArchiveTooLarge,
  InspectionErrorCode.ArchiveFileTooLarge,
  InspectionErrorCode.ArchiveTooManyEntries,
]);

// ---------------------------------------------------------------------------------------------- harness

type Outcome = { ok: true; chart: InspectedChart } | { ok: false; error: unknown };

class Hang extends Error {}

/** Inspects `archive`, turning a result or a rejection into a value; a run over HANG_MS fails the property. */
async function inspect(archive: Buffer, limits: Partial<InspectionLimits> = {}): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Hang(`inspection did not settle within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return { ok: true, chart: await Promise.race([inspectChartArchive(archive, limits), hang]) };
  } catch (error) {
    if (error instanceof Hang) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

/** A DomainError with a stable inspection code, the matching kind and a short sentence as its message. */
function expectRefused(o: Outcome, code?: string | string[]): DomainError {
  if (o.ok)
    throw new Error(`expected a refusal, the archive was accepted as ${o.chart.name} ${o.chart.version}`);
  if (!(o.error instanceof DomainError)) throw o.error;
  const e = o.error;
  expect(CODES).toContain(e.code);
  expect(e.kind).toBe(TOO_LARGE.has(e.code) ? ErrorKind.TooLarge : ErrorKind.Invalid);
  expect(e.message).toMatch(/^[A-Z][^\n]{10,200}\.$/);
  if (typeof code === 'string') expect(e.code).toBe(code);
  else if (code) expect(code).toContain(e.code);
  return e;
}

function expectAccepted(o: Outcome): InspectedChart {
  if (!o.ok) {
    const e = o.error as DomainError;
    throw new Error(`expected acceptance, got ${e.code ?? ''}: ${e.message}`);
  }
  return o.chart;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------------------------------------- generators

/** Non-ASCII characters written raw into Chart.yaml; every other character outside printable ASCII is escaped. */
const RAW_UNICODE = ['é', 'ß', 'Ω', 'ü', 'ñ', '中', '文', '🚀'];
const printableAscii = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const safeChar = fc.oneof(
  { weight: 12, arbitrary: printableAscii },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_UNICODE) },
);
/** Text that Helm's sanitizeString leaves unchanged. */
const text = (maxLength = 30) => fc.string({ unit: safeChar, maxLength });

/** YAML double-quoted scalar: always a string whatever it looks like (yes, 1.10, ~, 0x1f…). */
function yq(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if ((cp >= 0x20 && cp <= 0x7e) || RAW_UNICODE.includes(ch)) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Helm's chart-name rule (DNS-1123 label, at most 63 characters). */
const chartName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);

const versionNumber = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 20 }).map(String) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: MAX_UINT64 }).map(String) },
  { weight: 1, arbitrary: fc.constant(MAX_UINT64.toString()) },
);
const numericId = fc.oneof(
  fc.integer({ min: 0, max: 99 }).map(String),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
);
const alphanumericId = fc.stringMatching(/^[0-9A-Za-z-]{0,5}[A-Za-z-][0-9A-Za-z-]{0,5}$/);
const preIds = fc.array(fc.oneof(numericId, alphanumericId), { minLength: 1, maxLength: 4 });
const buildIds = fc.array(fc.stringMatching(/^[0-9A-Za-z-]{1,8}$/), { minLength: 1, maxLength: 3 });
/** Strict SemVer 2 (semver.org), numbers within Helm's uint64. */
const strictVersion = fc
  .tuple(
    versionNumber,
    versionNumber,
    versionNumber,
    fc.option(preIds, { freq: 2 }),
    fc.option(buildIds, { freq: 3 }),
  )
  .map(
    ([M, m, p, pre, build]) =>
      `${M}.${m}.${p}${pre ? `-${pre.join('.')}` : ''}${build ? `+${build.join('.')}` : ''}`,
  );

interface Maintainer {
  name?: string;
  email?: string;
  url?: string;
}
interface Dependency {
  name: string;
  repository: string;
  version?: string;
  condition?: string;
  alias?: string;
  enabled?: boolean;
}
interface ChartSpec {
  apiVersion: 'v1' | 'v2';
  name: string;
  version: string;
  description?: string;
  home?: string;
  icon?: string;
  appVersion?: string;
  kubeVersion?: string;
  condition?: string;
  tags?: string;
  keywords?: string[];
  sources?: string[];
  maintainers?: Maintainer[];
  annotations?: Record<string, string>;
  deprecated?: boolean;
  type?: 'application' | 'library';
  dependencies?: Dependency[];
  /** Keys Helm does not know (dropped from the metadata). */
  unknown?: Record<string, string>;
}

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
const dependency: fc.Arbitrary<Dependency> = fc.record(
  {
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
    repository: fc.oneof(fc.constant(''), fc.constant('https://charts.example.com'), text()),
    version: text(12),
    condition: text(12),
    alias: fc.stringMatching(/^[a-zA-Z0-9_-]{1,12}$/),
    enabled: fc.boolean(),
  },
  { requiredKeys: ['name', 'repository'] },
);

const chartSpec = (name: fc.Arbitrary<string> = chartName): fc.Arbitrary<ChartSpec> =>
  fc.record(
    {
      apiVersion: fc.constantFrom('v1' as const, 'v2' as const),
      name,
      version: strictVersion,
      description: text(60),
      home: text(),
      icon: text(),
      appVersion: text(12),
      kubeVersion: text(12),
      condition: text(12),
      tags: text(12),
      keywords: fc.array(text(10), { maxLength: 4 }),
      sources: fc.array(text(), { maxLength: 3 }),
      maintainers: fc.array(fc.record({ name: text(), email: text(), url: text() }, { requiredKeys: [] }), {
        maxLength: 3,
      }),
      annotations: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9./-]{0,20}$/), text(), { maxKeys: 4 }),
      deprecated: fc.boolean(),
      type: fc.constantFrom('application' as const, 'library' as const),
      dependencies: fc.uniqueArray(dependency, { selector: (d) => d.alias ?? d.name, maxLength: 3 }),
      unknown: fc.dictionary(fc.stringMatching(/^x-[a-z]{1,8}$/), text(), { maxKeys: 2 }),
    },
    { requiredKeys: ['apiVersion', 'name', 'version'] },
  );

/** Chart.yaml for `spec`, its top-level keys in the order given by `order` (a permutation seed). */
function chartYaml(spec: ChartSpec, order: number[], flow: boolean): string {
  const blocks: string[] = [];
  const scalar = (k: string, v: string | undefined) => v !== undefined && blocks.push(`${k}: ${yq(v)}\n`);
  const list = (k: string, v: string[] | undefined) => {
    if (v === undefined) return;
    if (flow || v.length === 0) blocks.push(`${k}: [${v.map(yq).join(', ')}]\n`);
    else blocks.push(`${k}:\n${v.map((x) => `  - ${yq(x)}\n`).join('')}`);
  };
  const maps = (k: string, v: Array<Record<string, string | boolean | undefined>> | undefined) => {
    if (v === undefined) return;
    if (v.length === 0) return void blocks.push(`${k}: []\n`);
    const item = (o: Record<string, string | boolean | undefined>) => {
      const kv = Object.entries(o).filter(([, x]) => x !== undefined) as Array<[string, string | boolean]>;
      if (kv.length === 0) return '  - {}\n';
      return kv
        .map(
          ([f, x], i) => `${i === 0 ? '  - ' : '    '}${f}: ${typeof x === 'boolean' ? String(x) : yq(x)}\n`,
        )
        .join('');
    };
    blocks.push(`${k}:\n${v.map((o) => item(o as Record<string, string | boolean | undefined>)).join('')}`);
  };
  scalar('apiVersion', spec.apiVersion);
  scalar('name', spec.name);
  scalar('version', spec.version);
  for (const k of ['description', 'home', 'icon', 'appVersion', 'kubeVersion', 'condition', 'tags'] as const)
    scalar(k, spec[k]);
  list('keywords', spec.keywords);
  list('sources', spec.sources);
  maps('maintainers', spec.maintainers as Array<Record<string, string>> | undefined);
  maps('dependencies', spec.dependencies as Array<Record<string, string | boolean>> | undefined);
  if (spec.annotations !== undefined) {
    const kv = Object.entries(spec.annotations);
    blocks.push(
      kv.length
        ? `annotations:\n${kv.map(([k, v]) => `  ${yq(k)}: ${yq(v)}\n`).join('')}`
        : 'annotations: {}\n',
    );
  }
  if (spec.deprecated !== undefined) blocks.push(`deprecated: ${spec.deprecated}\n`);
  if (spec.type !== undefined) blocks.push(`type: ${spec.type}\n`);
  for (const [k, v] of Object.entries(spec.unknown ?? {})) blocks.push(`${k}: ${yq(v)}\n`);
  const keyed = blocks.map((b, i) => ({ b, k: order[i % order.length] ?? 0, i }));
  keyed.sort((x, y) => x.k - y.k || x.i - y.i);
  return keyed.map((x) => x.b).join('');
}

/** What Helm's `chart.Metadata` marshals to (omitempty, struct field order). */
function expectedMetadata(spec: ChartSpec): Record<string, unknown> {
  const clean = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '' && v !== false));
  const nonEmpty = <T>(a: T[] | undefined) => (a && a.length > 0 ? a : undefined);
  const annotations =
    spec.annotations && Object.keys(spec.annotations).length > 0 ? spec.annotations : undefined;
  return clean({
    name: spec.name,
    home: spec.home,
    sources: nonEmpty(spec.sources),
    version: spec.version,
    description: spec.description,
    keywords: nonEmpty(spec.keywords),
    maintainers: nonEmpty(spec.maintainers?.map((m) => clean(m))),
    icon: spec.icon,
    apiVersion: spec.apiVersion,
    condition: spec.condition,
    tags: spec.tags,
    appVersion: spec.appVersion,
    deprecated: spec.deprecated,
    annotations,
    kubeVersion: spec.kubeVersion,
    dependencies: nonEmpty(
      spec.dependencies?.map((d) =>
        // name and repository are not omitempty in Helm's Dependency
        ({ ...clean(d), name: d.name, repository: d.repository }),
      ),
    ),
    type: spec.type,
  });
}

const dirSegment = fc.stringMatching(/^[a-z]{1,6}$/);
const fileSegment = fc.stringMatching(/^[A-Za-z0-9_-]{1,10}\.(yaml|txt|tpl|json)$/);
const SPECIAL = new Set(['chart.yaml', 'requirements.yaml', 'values.schema.json', 'readme.md']);
const extraFiles = fc.uniqueArray(
  fc.record({
    path: fc
      .tuple(fc.array(dirSegment, { maxLength: 3 }), fileSegment)
      .map(([dirs, file]) => [...dirs, file].join('/'))
      .filter((p) => !SPECIAL.has(p.toLowerCase()))
      // Templates are scanned for image references: archive.spec covers them with chosen texts.
      .filter((p) => !p.startsWith('templates/')),
    data: fc.oneof(
      text(200),
      fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
    ),
  }),
  { selector: (f) => f.path, maxLength: 8 },
);

interface ValidChart {
  spec: ChartSpec;
  top: string;
  entries: TarEntry[];
  readme?: string;
  schemaText?: string;
}

/** A random valid chart archive's entries (shuffled, with or without directory entries and a `./` prefix). */
const validChart: fc.Arbitrary<ValidChart> = fc
  .record({
    spec: chartSpec(),
    otherTop: fc.option(chartName, { freq: 5 }),
    order: fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 20 }),
    flow: fc.boolean(),
    files: extraFiles,
    readme: opt(text(200)),
    schema: opt(
      fc.oneof(
        fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
        text(20),
      ),
    ),
    dirs: fc.boolean(),
    dotSlash: fc.boolean(),
  })
  .chain((c) => {
    const top = c.otherTop ?? c.spec.name;
    const p = (rel: string) => `${c.dotSlash ? './' : ''}${top}/${rel}`;
    const entries: TarEntry[] = [
      { name: p('Chart.yaml'), data: chartYaml(c.spec, c.order, c.flow) },
      ...c.files.map((f) => ({ name: p(f.path), data: f.data })),
    ];
    if (c.readme !== undefined) entries.push({ name: p('README.md'), data: c.readme });
    if (c.schema !== undefined) entries.push({ name: p('values.schema.json'), data: c.schema });
    if (c.dirs) {
      const dirs = new Set<string>(['']);
      for (const f of c.files) {
        const parts = f.path.split('/').slice(0, -1);
        parts.forEach((_, i) => dirs.add(parts.slice(0, i + 1).join('/')));
      }
      for (const d of dirs)
        entries.push({ name: d === '' ? `${c.dotSlash ? './' : ''}${top}/` : `${p(d)}/`, type: 'directory' });
    }
    return fc
      .shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length })
      .map((shuffled) => ({ spec: c.spec, top, entries: shuffled, readme: c.readme, schemaText: c.schema }));
  });

function expectedInspection(c: ValidChart): InspectedChart {
  let valuesSchema: unknown;
  try {
    valuesSchema = c.schemaText === undefined ? undefined : (JSON.parse(c.schemaText) as unknown);
  } catch {
    valuesSchema = undefined;
  }
  return {
    name: c.spec.name,
    version: c.spec.version,
    ...(c.spec.appVersion ? { appVersion: c.spec.appVersion } : {}),
    apiVersion: c.spec.apiVersion,
    metadata: expectedMetadata(c.spec),
    ...(c.readme !== undefined ? { readme: c.readme } : {}),
    ...(valuesSchema !== undefined ? { valuesSchema } : {}),
    topDirectory: c.top,
    templateImages: [],
  };
}

/** A chart with a minimal Chart.yaml: the base that hostile entries are inserted into. */
const minimal = (name = 'demo', version = '1.0.0') =>
  `apiVersion: v2\nname: ${yq(name)}\nversion: ${yq(version)}\n`;
const smallChart = fc
  .tuple(chartName, extraFiles)
  .map(([name, files]): TarEntry[] => [
    { name: `${name}/Chart.yaml`, data: minimal(name) },
    ...files.map((f) => ({ name: `${name}/${f.path}`, data: f.data })),
  ]);
/** Inserts `entry` at a random position. */
const withInserted = (
  base: fc.Arbitrary<TarEntry[]>,
  entry: (entries: TarEntry[]) => fc.Arbitrary<TarEntry>,
) =>
  base.chain((entries) =>
    fc
      .tuple(entry(entries), fc.nat({ max: entries.length }))
      .map(([e, at]) => ({ hostile: e, entries: [...entries.slice(0, at), e, ...entries.slice(at)] })),
  );
const topOf = (entries: TarEntry[]) => entries[0].name.split('/')[0];

/** A copy of `tar` with one byte of its first header set, the header checksum recomputed. */
function withHeaderByte(tar: Buffer, at: number, value: number): Buffer {
  const out = Buffer.from(tar);
  out[at] = value;
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += out[i];
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return out;
}

// ---------------------------------------------------------------------------------------------- properties

describe('inspectChartArchive (property-based)', () => {
  jest.setTimeout(TEST_TIMEOUT_MS);

  it('accepts any valid chart and returns exactly the metadata written, in Helm field order', async () => {
    await fc.assert(
      fc.asyncProperty(validChart, async (c) => {
        const archive = await tgz(c.entries);
        const before = sha256(archive);
        const got = expectAccepted(await inspect(archive));
        const want = expectedInspection(c);
        expect(got).toEqual(want);
        expect(Object.keys(got.metadata)).toEqual(Object.keys(want.metadata));
        // The stored digest is sha256 of the uploaded bytes: inspection must never change them.
        expect(sha256(archive)).toBe(before);
      }),
      runs(300),
    );
  });

  it('is deterministic: the same bytes give the same result, sequentially or concurrently', async () => {
    await fc.assert(
      fc.asyncProperty(validChart, async (c) => {
        const archive = await tgz(c.entries);
        const [a, b] = await Promise.all([inspect(archive), inspect(archive)]);
        const d = await inspect(Buffer.from(archive));
        expect(b).toEqual(a);
        expect(d).toEqual(a);
      }),
      runs(RUNS),
    );
  });

  it('sanitises text like Helm: Unicode spaces become " ", other non-printable characters are dropped', async () => {
    // [character, what Helm's sanitizeString makes of it]
    const specials: Array<[string, string]> = [
      ['\t', ' '],
      ['\n', ' '],
      ['\r', ' '],
      ['\u00a0', ' '],
      ['\u2028', ' '],
      ['\u3000', ' '],
      ['\u0085', ' '],
      ['\u0007', ''],
      ['\u200b', ''],
      ['\u00ad', ''],
      ['\ufeff', ''],
      ['\u0000', ''],
    ];
    const piece = fc.oneof(
      safeChar.map((ch): [string, string] => [ch, ch]),
      fc.constantFrom(...specials),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 20 }),
        fc.array(piece, { maxLength: 10 }),
        async (desc, kw) => {
          const d = desc.map(([i]) => i).join('');
          const k = kw.map(([i]) => i).join('');
          const yaml = `${minimal()}description: ${yq(d)}\nkeywords: [${yq(k)}]\n`;
          const got = expectAccepted(await inspect(await tgz([{ name: 'demo/Chart.yaml', data: yaml }])));
          const want = desc.map(([, o]) => o).join('');
          expect(got.metadata.description).toBe(want === '' ? undefined : want);
          expect(got.metadata.keywords).toEqual([kw.map(([, o]) => o).join('')]);
        },
      ),
      runs(RUNS),
    );
  });

  it('refuses any random byte string with a stable code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const buf = Buffer.from(bytes);
        const looksGzip = buf.length >= 10 && buf[0] === 0x1f && buf[1] === 0x8b;
        expectRefused(await inspect(buf), looksGzip ? undefined : InspectionErrorCode.ArchiveNotGzip);
      }),
      runs(300),
    );
  });

  it('refuses random bytes behind a valid gzip header, and gzipped random bytes, with a stable code', async () => {
    const header = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), async (bytes, gzipped) => {
        const body = Buffer.from(bytes);
        const archive = gzipped ? gzipSync(body) : Buffer.concat([header, body]);
        const o = await inspect(archive);
        // gzip of random bytes: an empty input is an empty archive; anything else is not a tar stream.
        expectRefused(o);
      }),
      runs(300),
    );
  });

  it('refuses every truncation of a valid archive (archive_not_gzip below 10 bytes, else archive_corrupt)', async () => {
    await fc.assert(
      fc.asyncProperty(
        validChart.chain((c) =>
          fc.tuple(fc.constant(c), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })),
        ),
        async ([c, fraction]) => {
          const archive = await tgz(c.entries);
          const cut = Math.floor(fraction * archive.length);
          expectRefused(
            await inspect(archive.subarray(0, cut)),
            cut < 10 ? InspectionErrorCode.ArchiveNotGzip : InspectionErrorCode.ArchiveCorrupt,
          );
        },
      ),
      runs(RUNS),
    );
  });

  it('a flipped bit is refused with a stable code, or (gzip header bytes) changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(validChart, fc.nat(), fc.integer({ min: 0, max: 7 }), async (c, pos, bit) => {
        const archive = await tgz(c.entries);
        const original = expectAccepted(await inspect(archive));
        const flipped = Buffer.from(archive);
        flipped[pos % flipped.length] ^= 1 << bit;
        const o = await inspect(flipped);
        if (o.ok) expect(o.chart).toEqual(original);
        else expectRefused(o);
      }),
      runs(RUNS),
    );
  });

  it('a mutated tar stream (gzipped correctly) is accepted or refused with a stable code, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(
        smallChart,
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        async (entries, edits, cutAt) => {
          const tar = Buffer.from(await tarBuffer(entries));
          for (const [pos, value] of edits) tar[pos % tar.length] = value;
          const mutated = cutAt === undefined ? tar : tar.subarray(0, cutAt % (tar.length + 1));
          const o = await inspect(gzipSync(mutated), {
            maxDecompressedBytes: 1024 * 1024,
            maxFileBytes: 64 * 1024,
          });
          if (!o.ok) expectRefused(o);
        },
      ),
      runs(400),
    );
  });

  it('tar headers with mutated fields but valid checksums are accepted or refused with a stable code', async () => {
    // Reaches past tar-stream's checksum check: odd type flags, sizes (octal, base-256, negative), names, magic.
    const TYPEFLAGS = [...'0123456789gxLKAVDMNS', '\0', 'Z'].map((c) => c.charCodeAt(0));
    const edit = fc.oneof(
      fc.tuple(fc.nat({ max: 511 }), fc.nat({ max: 255 })),
      fc.tuple(fc.constant(156), fc.constantFrom(...TYPEFLAGS)), // typeflag
      fc.tuple(
        fc.integer({ min: 124, max: 135 }),
        fc.constantFrom(0x30, 0x37, 0x20, 0x00, 0x80, 0x81, 0xc0, 0xfe, 0xff, 0x39),
      ), // size
      fc.tuple(fc.integer({ min: 0, max: 99 }), fc.constantFrom(0x2f, 0x2e, 0x5c, 0x00, 0x3a)), // name: / . \ NUL :
      fc.tuple(fc.integer({ min: 345, max: 499 }), fc.constantFrom(0x2f, 0x2e, 0x61, 0x00)), // ustar prefix
    );
    await fc.assert(
      fc.asyncProperty(
        smallChart,
        fc.array(fc.tuple(fc.nat(), edit), { minLength: 1, maxLength: 6 }),
        async (entries, edits) => {
          const tar = Buffer.from(await tarBuffer(entries));
          const headers: number[] = [];
          for (let off = 0; off + 512 <= tar.length; off += 512)
            if (tar.toString('latin1', off + 257, off + 262) === 'ustar') headers.push(off);
          for (const [h, [at, value]] of edits) tar[headers[h % headers.length] + at] = value;
          for (const off of headers) {
            tar.fill(0x20, off + 148, off + 156);
            let sum = 0;
            for (let i = off; i < off + 512; i++) sum += tar[i];
            tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, off + 148, 'latin1');
          }
          const o = await inspect(gzipSync(tar), {
            maxDecompressedBytes: 1024 * 1024,
            maxFileBytes: 64 * 1024,
          });
          if (!o.ok) expectRefused(o);
        },
      ),
      runs(400),
    );
  });

  it('pax extended headers with random records are accepted or refused with a stable code', async () => {
    const value = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789-+.e /\\:aZ'), maxLength: 24 }),
      fc.constantFrom(
        'demo/x',
        '../x',
        '/etc/passwd',
        'demo/Chart.yaml',
        '99999999999999999999',
        '-1',
        'NaN',
        '',
      ),
    );
    const records = fc.dictionary(
      fc.constantFrom('path', 'size', 'linkpath', 'mtime', 'uid', 'comment', 'x'),
      value,
      {
        minKeys: 1,
        maxKeys: 3,
      },
    );
    await fc.assert(
      fc.asyncProperty(
        smallChart,
        records,
        fc.constantFrom('x', 'g'),
        fc.boolean(),
        async (entries, recs, kind, before) => {
          const pax = rawEntry('PaxHeader', kind, paxRecords(recs));
          const next = rawEntry(`${topOf(entries)}/placeholder`, '0', 'data');
          const parts: TarPart[] = before ? [pax, next, ...entries] : [...entries, pax, next];
          const o = await inspect(await tgz(parts));
          if (!o.ok) expectRefused(o);
        },
      ),
      runs(RUNS),
    );
  });

  // Counterexamples the properties above found (both used to hang the upload forever).
  it('regression: a directory entry whose header declares a size does not hang', async () => {
    const tar = await tarBuffer([{ name: 'a/Chart.yaml', data: minimal('a') }]);
    const o = await inspect(gzipSync(withHeaderByte(tar, 156, 0x35))); // typeflag '5': a directory of 38 bytes
    expectRefused(o, InspectionErrorCode.ArchiveCorrupt); // its "data" is then read as a (bad) header, as in Go
  });

  it('regression: a base-256 size field with a bad lead byte does not hang (archive_corrupt)', async () => {
    const tar = await tarBuffer([{ name: 'a/Chart.yaml', data: minimal('a') }]);
    expectRefused(
      await inspect(gzipSync(withHeaderByte(tar, 124, 0x81))),
      InspectionErrorCode.ArchiveCorrupt,
    );
  });

  it('refuses path traversal, absolute paths and drive letters anywhere (archive_path_unsafe)', async () => {
    const seg = fc.stringMatching(/^[a-z0-9._-]{1,8}$/).filter((s) => s !== '.' && s !== '..');
    const unsafeName = (entries: TarEntry[]) => {
      const top = topOf(entries);
      return fc.oneof(
        // a ".." segment somewhere, under the chart's own top directory or not
        fc
          .tuple(fc.array(seg, { maxLength: 3 }), fc.array(seg, { maxLength: 3 }), fc.boolean())
          .map(([a, b, under]) => [...(under ? [top] : []), ...a, '..', ...b].join('/')),
        fc.array(seg, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`),
        fc
          .tuple(fc.constantFrom('C:', 'c:', 'Z:'), fc.array(seg, { maxLength: 2 }), fc.boolean())
          .map(([d, s, under]) => [...(under ? [top] : []), `${d}${s.length ? '' : 'x'}`, ...s].join('/')),
        fc.array(seg, { minLength: 1, maxLength: 3 }).map((s) => `${top}\\${s.join('\\')}`),
      );
    };
    await fc.assert(
      fc.asyncProperty(
        withInserted(smallChart, (entries) =>
          fc
            .tuple(unsafeName(entries), fc.constantFrom('file' as const, 'directory' as const))
            .map(([name, type]) => (type === 'file' ? { name, data: 'x' } : { name: `${name}/`, type })),
        ),
        async ({ hostile, entries }) => {
          const e = expectRefused(await inspect(await tgz(entries)), InspectionErrorCode.ArchivePathUnsafe);
          expect(e.message).not.toContain(hostile.name); // hostile input is never reflected back
        },
      ),
      runs(RUNS),
    );
  });

  it('accepts names that merely contain dots ("..x", "a..b", "x.."): only a whole ".." segment is unsafe', async () => {
    const dotty = fc.stringMatching(/^(\.\.[a-z]{1,4}|[a-z]{1,4}\.\.[a-z]{0,4}|\.[a-z]{1,4})$/);
    await fc.assert(
      fc.asyncProperty(
        withInserted(smallChart, (entries) =>
          dotty.map((n) => ({ name: `${topOf(entries)}/${n}/${n}.txt`, data: 'x' })),
        ),
        async ({ entries }) => {
          expectAccepted(await inspect(await tgz(entries)));
        },
      ),
      runs(RUNS),
    );
  });

  it('refuses symlinks, hard links, devices and fifos anywhere (archive_entry_type)', async () => {
    const types = ['symlink', 'link', 'character-device', 'block-device', 'fifo', 'contiguous-file'] as const;
    await fc.assert(
      fc.asyncProperty(
        withInserted(smallChart, (entries) =>
          fc
            .tuple(
              fc.constantFrom(...types),
              fileSegment,
              fc.constantFrom('/etc/passwd', '../../x', 'Chart.yaml'),
            )
            .map(([type, file, linkname]) => ({ name: `${topOf(entries)}/${file}`, type, linkname })),
        ),
        async ({ entries }) => {
          expectRefused(await inspect(await tgz(entries)), InspectionErrorCode.ArchiveEntryType);
        },
      ),
      runs(RUNS),
    );
  });

  it('refuses a second top-level directory or a file at the root (archive_layout)', async () => {
    await fc.assert(
      fc.asyncProperty(
        withInserted(smallChart, (entries) =>
          fc.oneof(
            fc
              .tuple(
                chartName.filter((n) => n !== topOf(entries)),
                fc.option(fileSegment, { nil: undefined }),
              )
              .map(([other, file]): TarEntry =>
                file === undefined
                  ? { name: `${other}/`, type: 'directory' }
                  : { name: `${other}/${file}`, data: 'x' },
              ),
            fc
              .oneof(fileSegment, fc.constant('Chart.yaml'))
              .map((file): TarEntry => ({ name: file, data: minimal() })),
          ),
        ),
        async ({ entries }) => {
          expectRefused(await inspect(await tgz(entries)), InspectionErrorCode.ArchiveLayout);
        },
      ),
      runs(RUNS),
    );
  });

  it('refuses the same path twice, however it is spelled (archive_duplicate_entry)', async () => {
    await fc.assert(
      fc.asyncProperty(
        withInserted(smallChart, (entries) =>
          fc
            .tuple(fc.nat({ max: entries.length - 1 }), fc.constantFrom('same', 'dot', 'slashes', 'dir'))
            .map(([i, spelling]): TarEntry => {
              const name = entries[i].name;
              if (spelling === 'dot') return { name: `./${name}`, data: 'again' };
              if (spelling === 'slashes') return { name: name.replace('/', '//'), data: 'again' };
              if (spelling === 'dir') return { name: `${name}/`, type: 'directory' };
              return { name, data: 'again' };
            }),
        ),
        async ({ entries }) => {
          expectRefused(await inspect(await tgz(entries)), InspectionErrorCode.ArchiveDuplicateEntry);
        },
      ),
      runs(RUNS),
    );
  });

  it('refuses a chart without <top>/Chart.yaml (chart_yaml_missing), or with no file at all (archive_empty)', async () => {
    await fc.assert(
      fc.asyncProperty(
        chartName,
        extraFiles,
        fc.constantFrom('none', 'lowercase', 'nested', 'yml'),
        fc.boolean(),
        async (top, files, misplaced, dirs) => {
          const entries: TarEntry[] = files.map((f) => ({ name: `${top}/${f.path}`, data: f.data }));
          if (misplaced === 'lowercase') entries.push({ name: `${top}/chart.yaml`, data: minimal(top) });
          if (misplaced === 'nested')
            entries.push({ name: `${top}/charts/sub/Chart.yaml`, data: minimal('sub') });
          if (misplaced === 'yml') entries.push({ name: `${top}/Chart.yml`, data: minimal(top) });
          if (dirs)
            entries.unshift(
              { name: `${top}/`, type: 'directory' },
              { name: `${top}/templates/`, type: 'directory' },
            );
          const hasFile = entries.some((e) => e.type !== 'directory');
          expectRefused(
            await inspect(await tgz(entries)),
            hasFile ? InspectionErrorCode.ChartYamlMissing : InspectionErrorCode.ArchiveEmpty,
          );
        },
      ),
      runs(RUNS),
    );
  });

  it('maxEntries is an exact threshold (archive_too_many_entries)', async () => {
    await fc.assert(
      fc.asyncProperty(validChart, fc.integer({ min: 1, max: 30 }), async (c, maxEntries) => {
        const o = await inspect(await tgz(c.entries), { maxEntries });
        if (c.entries.length <= maxEntries) expect(expectAccepted(o)).toEqual(expectedInspection(c));
        else expectRefused(o, InspectionErrorCode.ArchiveTooManyEntries);
      }),
      runs(RUNS),
    );
  });

  it('maxFileBytes is an exact threshold (archive_file_too_large)', async () => {
    await fc.assert(
      fc.asyncProperty(validChart, fc.integer({ min: 1, max: 1200 }), async (c, maxFileBytes) => {
        const largest = Math.max(
          0,
          ...c.entries.map((e) => (e.type === 'directory' ? 0 : Buffer.byteLength(e.data ?? ''))),
        );
        const o = await inspect(await tgz(c.entries), { maxFileBytes });
        if (largest <= maxFileBytes) expect(expectAccepted(o)).toEqual(expectedInspection(c));
        else expectRefused(o, InspectionErrorCode.ArchiveFileTooLarge);
      }),
      runs(RUNS),
    );
  });

  it('maxDecompressedBytes is an exact threshold on the inflated tar stream (archive_too_large)', async () => {
    await fc.assert(
      fc.asyncProperty(validChart, fc.double({ min: 0, max: 1.2, noNaN: true }), async (c, f) => {
        const archive = await tgz(c.entries);
        const tarLength = gunzipSync(archive).length;
        const maxDecompressedBytes = Math.max(1, Math.round(f * tarLength));
        const o = await inspect(archive, { maxDecompressedBytes });
        if (tarLength <= maxDecompressedBytes) expect(expectAccepted(o)).toEqual(expectedInspection(c));
        else expectRefused(o, InspectionErrorCode.ArchiveTooLarge);
      }),
      runs(RUNS),
    );
  });

  it('accepts a version iff it is strict SemVer 2 (differential against the semver package), else chart_version_invalid', async () => {
    const noisy = fc.string({ unit: fc.constantFrom(...'0123456789..--++abvV'), maxLength: 14 });
    const mutated = strictVersion.chain((v) =>
      fc.oneof(
        fc.constant(v),
        fc.constantFrom(`v${v}`, `=${v}`, ` ${v}`, `${v} `, `${v}-`, `${v}+`, `0${v}`, `${v}.0`, `${v}..1`),
        fc.nat({ max: v.length }).map((i) => v.slice(0, i)),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(noisy, mutated), async (version) => {
        const o = await inspect(await tgz([{ name: 'demo/Chart.yaml', data: minimal('demo', version) }]));
        // semver accepts a leading "v"/"=" and surrounding spaces, and is limited to safe integers.
        const numbers = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
        const inUint64 = numbers !== null && numbers.slice(1).every((n) => BigInt(n) <= MAX_UINT64);
        const safe =
          numbers !== null && numbers.slice(1).every((n) => BigInt(n) <= BigInt(Number.MAX_SAFE_INTEGER));
        const parsed = semver.parse(version);
        if (safe || numbers === null) {
          const strict = parsed !== null && /^\d/.test(version) && version.trim() === version;
          if (strict) expect(expectAccepted(o).version).toBe(version);
          else expectRefused(o, InspectionErrorCode.ChartVersionInvalid);
        } else if (!inUint64) expectRefused(o, InspectionErrorCode.ChartVersionInvalid);
      }),
      runs(400),
    );
  });

  it('major, minor and patch are limited to uint64 (as Helm parses them)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: MAX_UINT64 - 3n, max: MAX_UINT64 + 3n }),
        fc.integer({ min: 0, max: 2 }),
        async (n, slot) => {
          const parts = ['1', '2', '3'];
          parts[slot] = n.toString();
          const version = parts.join('.');
          const o = await inspect(await tgz([{ name: 'demo/Chart.yaml', data: minimal('demo', version) }]));
          if (n <= MAX_UINT64) expect(expectAccepted(o).version).toBe(version);
          else expectRefused(o, InspectionErrorCode.ChartVersionInvalid);
        },
      ),
      runs(50),
    );
  });

  it('accepts a name iff it is a DNS-1123 label of at most 63 characters, else chart_name_invalid', async () => {
    const candidate = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'abz09-._A/ '), maxLength: 70 }),
      chartName,
      chartName.map((n) => `${n}${'x'.repeat(64 - n.length)}`),
    );
    const isLabel = (s: string) =>
      s.length >= 1 &&
      s.length <= 63 &&
      [...s].every((ch) => (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '-') &&
      !s.startsWith('-') &&
      !s.endsWith('-');
    await fc.assert(
      fc.asyncProperty(candidate, async (name) => {
        // The top directory need not match the name (Helm strips it), so a fixed one is used.
        const o = await inspect(await tgz([{ name: 'chart/Chart.yaml', data: minimal(name) }]));
        if (isLabel(name)) expect(expectAccepted(o)).toMatchObject({ name, topDirectory: 'chart' });
        else expectRefused(o, InspectionErrorCode.ChartNameInvalid);
      }),
      runs(300),
    );
  });

  it('accepts only apiVersion v1 or v2 (chart_api_version_invalid) and type application or library', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom('v1', 'v2', 'v3', 'V2', '2', 'v2 ', ''), text(6)),
        fc.oneof(fc.constantFrom('application', 'library', '', 'Application', 'app'), text(6)),
        async (apiVersion, type) => {
          const yaml = `apiVersion: ${yq(apiVersion)}\nname: demo\nversion: 1.0.0\ntype: ${yq(type)}\n`;
          const o = await inspect(await tgz([{ name: 'demo/Chart.yaml', data: yaml }]));
          if (apiVersion !== 'v1' && apiVersion !== 'v2')
            expectRefused(o, InspectionErrorCode.ChartApiVersionInvalid);
          else if (!['', 'application', 'library'].includes(type))
            expectRefused(o, InspectionErrorCode.ChartYamlInvalid);
          else expect(expectAccepted(o).apiVersion).toBe(apiVersion);
        },
      ),
      runs(RUNS),
    );
  });

  it('random Chart.yaml text is accepted or refused with a stable code, never anything else', async () => {
    const yamlish = fc.string({
      unit: fc.oneof(
        { weight: 4, arbitrary: safeChar },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            '\n',
            ': ',
            '- ',
            '  ',
            '{',
            '}',
            '[',
            ']',
            '&a ',
            '*a',
            '<<: ',
            '!!str ',
            '"',
            "'",
            '#',
            '|',
            '>',
            '\t',
            '\u0000',
          ),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'apiVersion: v2\n',
            'name: demo\n',
            'version: 1.0.0\n',
            'maintainers:\n',
            'dependencies:\n',
          ),
        },
      ),
      maxLength: 60,
    });
    await fc.assert(
      fc.asyncProperty(yamlish, fc.boolean(), async (yaml, prefixed) => {
        const data = prefixed ? `${minimal()}${yaml}` : yaml;
        const o = await inspect(await tgz([{ name: 'demo/Chart.yaml', data }]));
        if (!o.ok) expectRefused(o);
      }),
      runs(400),
    );
  });
});
