import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header, type Extract } from 'tar-stream';
import { DomainError } from '@berth/common';
import { parseChartYaml } from './chart-yaml';
import { type InspectionLimits, resolveLimits } from './limits';
import { entryPathSegments } from './paths';
import { DEFAULT_GO_YAML_LIMITS } from './go-yaml';
import { findUnstorable, storableText } from './storable';
import { InspectionErrors } from './codes';

export interface InspectedChart {
  name: string;
  version: string;
  appVersion?: string;
  apiVersion: 'v1' | 'v2';
  /**
   * `Chart.yaml` exactly as Helm's `chart.Metadata` marshals it into a `helm repo index` entry (without
   * `urls`, `created`, `digest`); typed precisely as `ChartMetadata`.
   */
  metadata: Record<string, unknown>;
  /** `<top>/README.md` (any case), UTF-8, truncated at `maxReadmeBytes`. */
  readme?: string;
  /** `<top>/values.schema.json` when present and valid JSON. */
  valuesSchema?: unknown;
  /**
   * `<top>/values.yaml` as text (what a chart page shows and diffs; Helm itself reads the file from the
   * archive), cut at `maxValuesBytes` on a character boundary with `truncated` set.
   */
  values?: { text: string; truncated: boolean };
  /** The archive's single top-level directory (Helm strips it; `helm package` names it after the chart). */
  topDirectory: string;
  /**
   * Image references written out in full in `<top>/templates/` (`registry.example.com/team/app:1.2`, with
   * a registry host), in the order first seen, at most MAX_TEMPLATE_IMAGES: what a registry ties to the
   * release. References templated from values (`{{ .Values.image }}`) are values.yaml's to name.
   */
  templateImages: string[];
}

/** The most image references kept from one chart's templates. */
export const MAX_TEMPLATE_IMAGES = 100;
/**
 * A full image reference standing alone: a registry host (dotted, with a port, or localhost), a path, an
 * optional tag and digest, as the distribution spec spells them, neither preceded nor followed by more of
 * a token (`…:{{ .Chart.AppVersion }}` is a template's to fill, not a reference).
 */
const IMAGE_REFERENCE =
  /(?<![A-Za-z0-9._:/@-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+(?::\d{1,5})?|[a-z0-9-]+:\d{1,5}|localhost)\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(?:@sha256:[a-f0-9]{64})?(?=$|[\s"',\]}])/g;
/** Only lines that speak of an image, and not longer than this, are searched: bounded work per line. */
const IMAGE_LINE = /image/i;
const MAX_IMAGE_LINE = 1024;

/** The image references of one template file, in order. */
export function templateImageReferences(text: string): string[] {
  const refs: string[] = [];
  for (const line of text.split('\n')) {
    if (line.length > MAX_IMAGE_LINE || !IMAGE_LINE.test(line)) continue;
    for (const [ref] of line.matchAll(IMAGE_REFERENCE)) refs.push(ref);
  }
  return refs;
}

/** The files of interest, captured while every other byte streams past. */
interface ArchiveContents {
  topDirectory?: string;
  files: number;
  chartYaml?: Buffer;
  requirementsYaml?: Buffer;
  valuesSchema?: Buffer;
  readme?: { data: Buffer; truncated: boolean; exactName: boolean };
  values?: { data: Buffer; truncated: boolean };
  templateImages: Set<string>;
}

/** RFC 1952: ID1 ID2, CM = 8 (deflate), and no reserved FLG bits. Anything else is not a gzip file. */
function looksLikeGzip(archive: Buffer): boolean {
  return (
    archive.length >= 10 &&
    archive[0] === 0x1f &&
    archive[1] === 0x8b &&
    archive[2] === 0x08 &&
    (archive[3] & 0xe0) === 0
  );
}

/**
 * Inspects an uploaded chart archive (`.tgz`) without trusting it: the gzip stream is inflated chunk by chunk
 * into a streaming tar parser and abandoned as soon as any limit is passed, so a gzip bomb is never inflated
 * in full; only `Chart.yaml`, `requirements.yaml`, `values.schema.json`, `values.yaml` and the README are
 * kept in memory (the last two up to their limits).
 * Throws a `DomainError` whose code is one of `InspectionErrorCode`.
 */
export async function inspectChartArchive(
  archive: Buffer,
  limits: Partial<InspectionLimits> = {},
): Promise<InspectedChart> {
  const lim = resolveLimits(limits);
  if (!looksLikeGzip(archive)) {
    throw InspectionErrors.ArchiveNotGzip();
  }
  const contents = await readArchive(archive, lim);
  if (contents.files === 0 || contents.topDirectory === undefined) {
    throw InspectionErrors.ArchiveEmpty('The chart archive contains no files.');
  }
  if (!contents.chartYaml) {
    throw InspectionErrors.ChartYamlMissing();
  }
  const chart = parseChartYaml(contents.chartYaml, {
    requirementsYaml: contents.requirementsYaml,
    maxBytes: lim.maxChartYamlBytes,
  });
  const readme = contents.readme ? utf8Text(contents.readme.data, contents.readme.truncated) : undefined;
  const values = contents.values
    ? {
        text: utf8Text(contents.values.data, contents.values.truncated),
        truncated: contents.values.truncated,
      }
    : undefined;
  const valuesSchema = contents.valuesSchema ? parseValuesSchema(contents.valuesSchema) : undefined;
  return {
    name: chart.name,
    version: chart.version,
    ...(chart.appVersion !== undefined ? { appVersion: chart.appVersion } : {}),
    apiVersion: chart.apiVersion,
    metadata: chart.metadata,
    ...(readme !== undefined ? { readme } : {}),
    ...(valuesSchema !== undefined ? { valuesSchema } : {}),
    ...(values !== undefined ? { values } : {}),
    topDirectory: contents.topDirectory,
    templateImages: [...contents.templateImages],
  };
}

function readArchive(archive: Buffer, lim: Required<InspectionLimits>): Promise<ArchiveContents> {
  return new Promise<ArchiveContents>((resolve, reject) => {
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    const tar: Extract = tarExtract();
    const contents: ArchiveContents = { files: 0, templateImages: new Set() };
    const seenFiles = new Set<string>();
    const seenDirs = new Set<string>();
    let inflated = 0;
    let contentBytes = 0;
    let entries = 0;
    let settled = false;

    const fail = (err: DomainError) => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      tar.destroy(null);
      reject(err);
    };

    gunzip.on('data', (chunk: Buffer) => {
      if (settled) return;
      inflated += chunk.length;
      if (inflated > lim.maxDecompressedBytes) {
        fail(InspectionErrors.ArchiveTooLarge(lim.maxDecompressedBytes));
        return;
      }
      if (!tar.write(chunk)) {
        gunzip.pause();
        tar.once('drain', () => gunzip.resume());
      }
    });
    gunzip.on('end', () => {
      if (!settled) tar.end(null);
    });
    gunzip.on('error', (err: NodeJS.ErrnoException) => fail(gunzipError(err)));
    tar.on('error', () =>
      fail(InspectionErrors.ArchiveCorrupt('The chart archive is not a valid tar archive.')),
    );
    tar.on('finish', () => {
      if (settled) return;
      settled = true;
      resolve(contents);
    });

    tar.on('entry', (header, stream, next) => {
      let sink: ((chunk: Buffer) => void) | undefined;
      try {
        if (settled) return;
        if (++entries > lim.maxEntries) {
          throw InspectionErrors.ArchiveTooManyEntries(lim.maxEntries);
        }
        sink = admitEntry(header);
      } catch (err) {
        fail(err as DomainError);
        return;
      }
      if (header.type === 'directory') {
        // A directory carries no data (Go's archive/tar ignores its size too), and tar-stream never ends a
        // directory's stream when the header declares a size: waiting for 'end' would hang the upload.
        next();
        return;
      }
      let received = 0;
      stream.on('data', (data) => {
        const chunk = data as Buffer;
        if (settled) return;
        received += chunk.length;
        if (received > lim.maxFileBytes) {
          fail(InspectionErrors.ArchiveFileTooLarge(lim.maxFileBytes));
          return;
        }
        sink?.(chunk);
      });
      stream.on('end', () => next());
      // A damaged tar destroys the entry with the parser's error; the parser's own 'error' reports it.
      stream.on('error', () => undefined);
      stream.resume();
    });

    /** Checks one entry's header; returns where its bytes go (undefined: counted and dropped). */
    function admitEntry(header: Header): ((chunk: Buffer) => void) | undefined {
      // tar-stream consumes pax headers (global ones too) and GNU long names itself; an unknown typeflag is null.
      const type = header.type as string | null;
      if (type !== 'file' && type !== 'directory') {
        throw InspectionErrors.ArchiveEntryType();
      }
      const segments = entryPathSegments(header.name);
      if (segments.length === 0) {
        if (type === 'directory') return undefined; // "./"
        throw InspectionErrors.ArchivePathUnsafe();
      }
      if (contents.topDirectory === undefined) contents.topDirectory = segments[0];
      else if (contents.topDirectory !== segments[0]) {
        throw InspectionErrors.ArchiveLayout(
          'The chart archive must contain exactly one top-level directory.',
        );
      }
      const path = segments.join('/');
      const duplicate = () => InspectionErrors.ArchiveDuplicateEntry();
      if (type === 'directory') {
        if (seenFiles.has(path)) throw duplicate();
        seenDirs.add(path);
        return undefined;
      }
      if (segments.length === 1) {
        throw InspectionErrors.ArchiveLayout('The chart archive has a file outside its top-level directory.');
      }
      if (seenFiles.has(path) || seenDirs.has(path)) throw duplicate();
      seenFiles.add(path);
      contents.files++;

      const size = header.size as number | null;
      // tar-stream yields null for a base-256 size field that starts with neither 0x80 nor 0xff, and then never
      // ends the entry's stream; Go's archive/tar refuses such a header.
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
        throw InspectionErrors.ArchiveCorrupt('The chart archive is not a valid tar archive.');
      }
      // Helm's order: the running total first, then the per-file limit.
      if (size > lim.maxDecompressedBytes - contentBytes) {
        throw InspectionErrors.ArchiveTooLarge(lim.maxDecompressedBytes);
      }
      if (size > lim.maxFileBytes) {
        throw InspectionErrors.ArchiveFileTooLarge(lim.maxFileBytes);
      }
      contentBytes += size;
      return captureFor(segments.slice(1).join('/'), size);
    }

    function captureFor(rel: string, size: number): ((chunk: Buffer) => void) | undefined {
      const collect = (limit: number, done: (data: Buffer) => void) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        return (chunk: Buffer) => {
          if (kept >= limit) return;
          const part = chunk.subarray(0, limit - kept);
          chunks.push(part);
          kept += part.length;
          if (kept === Math.min(limit, size)) done(Buffer.concat(chunks));
        };
      };
      const whole = (assign: (data: Buffer) => void) => {
        if (size === 0) assign(Buffer.alloc(0));
        return collect(size, assign);
      };
      if (rel === 'Chart.yaml' || rel === 'requirements.yaml') {
        if (size > lim.maxChartYamlBytes) {
          throw InspectionErrors.ChartYamlInvalid(`${rel} is larger than ${lim.maxChartYamlBytes} bytes.`);
        }
        return whole((data) =>
          rel === 'Chart.yaml' ? (contents.chartYaml = data) : (contents.requirementsYaml = data),
        );
      }
      if (rel === 'values.schema.json') {
        if (size > lim.maxValuesSchemaBytes) {
          throw InspectionErrors.ValuesSchemaInvalid(
            `values.schema.json is larger than ${lim.maxValuesSchemaBytes} bytes.`,
          );
        }
        return whole((data) => (contents.valuesSchema = data));
      }
      if (rel === 'values.yaml') {
        const truncated = size > lim.maxValuesBytes;
        const limit = Math.min(size, lim.maxValuesBytes);
        const values: NonNullable<ArchiveContents['values']> = { data: Buffer.alloc(0), truncated };
        contents.values = values;
        return limit === 0 ? undefined : collect(limit, (data) => (values.data = data));
      }
      if (rel.toLowerCase() === 'readme.md') {
        const exactName = rel === 'README.md';
        if (contents.readme && (contents.readme.exactName || !exactName)) return undefined;
        const truncated = size > lim.maxReadmeBytes;
        const limit = Math.min(size, lim.maxReadmeBytes);
        contents.readme = { data: Buffer.alloc(0), truncated, exactName };
        const readme = contents.readme;
        return limit === 0 ? undefined : collect(limit, (data) => (readme.data = data));
      }
      if (rel.startsWith('templates/') && size > 0 && contents.templateImages.size < MAX_TEMPLATE_IMAGES) {
        // At most the per-file limit, held only until the file is scanned.
        return whole((data) => {
          for (const ref of templateImageReferences(data.toString('utf8'))) {
            if (contents.templateImages.size >= MAX_TEMPLATE_IMAGES) break;
            contents.templateImages.add(ref);
          }
        });
      }
      return undefined;
    }

    gunzip.end(archive);
  });
}

/** The gzip header was checked up front, so any inflate error means a damaged stream. */
function gunzipError(err: NodeJS.ErrnoException): DomainError {
  if (err.code === 'Z_BUF_ERROR') return InspectionErrors.ArchiveCorrupt('The chart archive is truncated.');
  return InspectionErrors.ArchiveCorrupt('The chart archive is not a valid gzip stream.');
}

/** UTF-8 text without a BOM; a truncated tail never ends in half a character. */
function utf8Text(data: Buffer, truncated: boolean): string {
  let end = data.length;
  if (truncated) {
    let lead = end - 1;
    while (lead > 0 && (data[lead] & 0xc0) === 0x80) lead--;
    const b = data[lead];
    const need = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (lead >= 0 && lead + need > end) end = lead;
  }
  return storableText(
    data
      .subarray(0, end)
      .toString('utf8')
      .replace(/^\uFEFF/, ''),
  );
}

/** Deepest `values.schema.json` accepted: the nesting limit `Chart.yaml` has. */
export const MAX_VALUES_SCHEMA_DEPTH = DEFAULT_GO_YAML_LIMITS.maxDepth;

/**
 * The schema as stored (jsonb) and served; undefined when it is not JSON (kept as before: Helm reports that
 * at install time). JSON the database would refuse, or nested past `MAX_VALUES_SCHEMA_DEPTH`, is refused.
 */
function parseValuesSchema(data: Buffer): unknown {
  let schema: unknown;
  try {
    schema = JSON.parse(data.toString('utf8').replace(/^\uFEFF/, '')) as unknown;
  } catch {
    return undefined;
  }
  const why = findUnstorable(schema, MAX_VALUES_SCHEMA_DEPTH);
  if (why === 'depth') {
    throw InspectionErrors.ValuesSchemaInvalid(
      `values.schema.json is nested more than ${MAX_VALUES_SCHEMA_DEPTH} levels deep.`,
    );
  }
  if (why) {
    throw InspectionErrors.ValuesSchemaInvalid(
      'values.schema.json holds a NUL character or an unpaired surrogate (in a key or a string).',
    );
  }
  return schema;
}
