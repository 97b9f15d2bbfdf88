/**
 * Builders for hostile and ordinary chart archives, used by the unit tests and the Helm fixture generator.
 * Everything is made in memory with tar-stream's pack and zlib; large zero-filled files are streamed through
 * gzip chunk by chunk (one shared zero buffer), so a 101 MiB "bomb" costs about 100 KiB of memory.
 */
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { type Header, pack } from 'tar-stream';

export interface TarEntry {
  name: string;
  type?: Header['type'];
  /** File content. */
  data?: string | Buffer;
  /** Stream this many zero bytes as the content instead of `data`. */
  zeros?: number;
  linkname?: string;
}

/** Raw bytes appended to the tar stream (hand-made headers, trailing garbage). */
export interface RawBlock {
  raw: Buffer;
}

export type TarPart = TarEntry | RawBlock;

const ZERO_CHUNK = Buffer.alloc(1024 * 1024);

async function* zeroChunks(n: number): AsyncGenerator<Buffer> {
  for (let left = n; left > 0; left -= ZERO_CHUNK.length) {
    yield left >= ZERO_CHUNK.length ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, left);
  }
}

/**
 * tar-stream's pack output for `entries`, streamed (zero-filled entries are written chunk by chunk while the
 * output is read), without the 1024-byte end-of-archive marker that `finalize()` appends.
 */
async function* packChunks(entries: TarEntry[]): AsyncGenerator<Buffer> {
  const p = pack();
  const writing = (async () => {
    for (const e of entries) {
      const type = e.type ?? 'file';
      const isFile = type === 'file';
      const size = isFile ? (e.zeros ?? (e.data === undefined ? 0 : Buffer.byteLength(e.data))) : 0;
      const header = {
        name: e.name,
        type,
        size,
        mode: type === 'directory' ? 0o755 : 0o644,
        linkname: e.linkname,
      };
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error | null) => (err ? reject(err) : resolve());
        if (e.zeros === undefined) {
          p.entry(header, isFile ? (e.data ?? '') : '', done);
          return;
        }
        const sink = p.entry(header, done);
        void (async () => {
          for await (const chunk of zeroChunks(e.zeros ?? 0)) {
            if (!sink.write(chunk)) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
          }
          sink.end(null);
        })().catch((err: Error) => p.destroy(err)); // a failed write fails the archive stream, not the process
      });
    }
    p.finalize();
  })();
  writing.catch((err: Error) => p.destroy(err));
  let tail = Buffer.alloc(0);
  for await (const chunk of p) {
    const all = Buffer.concat([tail, chunk as Buffer]);
    const keep = Math.min(1024, all.length);
    if (all.length > keep) yield all.subarray(0, all.length - keep);
    tail = all.subarray(all.length - keep);
  }
  await writing;
}

/** The tar stream as chunks: packed entries, raw blocks in between, and the end-of-archive marker if `end`. */
async function* tarChunks(parts: TarPart[], end = true): AsyncGenerator<Buffer> {
  let group: TarEntry[] = [];
  for (const part of parts) {
    if ('raw' in part) {
      if (group.length) yield* packChunks(group);
      group = [];
      yield part.raw;
    } else {
      group.push(part);
    }
  }
  if (group.length) yield* packChunks(group);
  if (end) yield Buffer.alloc(1024);
}

/** Gzips a chunk stream with backpressure. */
export async function gzipChunks(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const gz = createGzip({ level: 6 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const ended = once(gz, 'end');
  for await (const chunk of chunks) {
    if (!gz.write(chunk)) await once(gz, 'drain');
  }
  gz.end();
  await ended;
  return Buffer.concat(out);
}

/** A .tgz of `parts`; `trailingZeros` appends that many zero bytes after the end-of-archive blocks. */
export async function tgz(
  parts: TarPart[],
  opts: { trailingZeros?: number; end?: boolean } = {},
): Promise<Buffer> {
  return gzipChunks(
    (async function* () {
      yield* tarChunks(parts, opts.end ?? true);
      if (opts.trailingZeros) yield* zeroChunks(opts.trailingZeros);
    })(),
  );
}

/** The uncompressed tar of `parts`. */
export async function tarBuffer(parts: TarPart[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of tarChunks(parts)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** `<top>/` plus one file entry per `files` key (paths relative to the top directory), like `helm package`. */
export function chartEntries(top: string, files: Record<string, string | Buffer>): TarEntry[] {
  return [
    { name: `${top}/`, type: 'directory' },
    ...Object.entries(files).map(([rel, data]) => ({ name: `${top}/${rel}`, data })),
  ];
}

export const chartTgz = (top: string, files: Record<string, string | Buffer>): Promise<Buffer> =>
  tgz(chartEntries(top, files));

export const minimalChartYaml = (name = 'demo', version = '1.0.0') =>
  `apiVersion: v2\nname: ${name}\nversion: ${version}\ndescription: A demo chart\n`;

/**
 * A hand-made 512-byte ustar header (for what tar-stream's pack cannot write: pax global headers, GNU long
 * names, unknown type flags, paths with NUL). `typeflag` is the one-character tar type.
 */
export function ustarHeader(h: { name: string; size: number; typeflag: string; mode?: number }): Buffer {
  const buf = Buffer.alloc(512);
  buf.write(h.name, 0, 100, 'utf8');
  buf.write(octal(h.mode ?? 0o644, 7), 100);
  buf.write(octal(0, 7), 108);
  buf.write(octal(0, 7), 116);
  buf.write(octal(h.size, 11), 124);
  buf.write(octal(0, 11), 136);
  buf.write(h.typeflag, 156);
  buf.write('ustar\u000000', 257, 'binary');
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(`${octal(sum, 6)}\u0000 `, 148, 'binary');
  return buf;
}

const octal = (n: number, width: number) => n.toString(8).padStart(width, '0');

/** A header followed by its padded data block(s). */
export function rawEntry(name: string, typeflag: string, data: Buffer | string = ''): RawBlock {
  const body = Buffer.from(data);
  const pad = (512 - (body.length % 512)) % 512;
  return {
    raw: Buffer.concat([ustarHeader({ name, size: body.length, typeflag }), body, Buffer.alloc(pad)]),
  };
}

/** A pax extended-header record list (`x` per entry, `g` global). */
export function paxRecords(records: Record<string, string>): Buffer {
  return Buffer.concat(
    Object.entries(records).map(([k, v]) => {
      const body = ` ${k}=${v}\n`;
      let len = Buffer.byteLength(body) + 1;
      while (String(len).length + Buffer.byteLength(body) !== len) len++;
      return Buffer.from(`${len}${body}`);
    }),
  );
}
