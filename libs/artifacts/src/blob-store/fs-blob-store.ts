import { randomUUID } from 'node:crypto';
import {
  close,
  constants as fsConstants,
  createReadStream,
  fstat,
  open as openCallback,
  read,
} from 'node:fs';
import {
  access,
  mkdir,
  open,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { DomainError } from '@berth/common';
import {
  assertValidBlobKey,
  assertValidBlobPrefix,
  blobNotFound,
  blobStoreUnavailable,
  DEFAULT_BLOB_MAX_BYTES,
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  type PutOptions,
  type PutResult,
} from './blob-store';
import { openBody, releaseBody } from './capped-body';
import { ArtifactsErrors } from '../errors';

export interface FsBlobStoreOptions {
  /** Directory that holds the blobs (created on demand). Keys map to paths below it. */
  root: string;
  /** Cap for `put` calls that give no `maxBytes`. Default `DEFAULT_BLOB_MAX_BYTES` (20 MiB). */
  defaultMaxBytes?: number;
}

const openFd = promisify(openCallback);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);
const readFd = promisify(read);

/** Reads and writes go in pieces of this size: large blobs (image layers) cost far fewer system calls. */
const READ_CHUNK_BYTES = 1024 * 1024;
const WRITE_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * A large blob is flushed to disk as it arrives, while the next bytes are received, so the fsync before
 * the rename has little left to do.
 */
const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

/** Name of the working directory under the root; never a key (keys cannot have dot-segments). */
export const FS_BLOB_TMP_DIR = '.tmp';

/**
 * Blobs as plain files under `root`. A `put` writes `<root>/.tmp/<uuid>.part` (same filesystem, so
 * the final rename is atomic), fsyncs it, renames it over `<root>/<key>` and fsyncs the parent
 * directory. `delete` removes the file and then any parent directories it left empty.
 */
export class FsBlobStore implements BlobStore {
  readonly driver = 'fs' as const;
  readonly root: string;
  readonly tmpDir: string;
  private readonly defaultMaxBytes: number;

  constructor(options: FsBlobStoreOptions) {
    if (!options?.root) throw new Error('FsBlobStore needs a root directory');
    this.root = resolve(options.root);
    this.tmpDir = join(this.root, FS_BLOB_TMP_DIR);
    this.defaultMaxBytes = options.defaultMaxBytes ?? DEFAULT_BLOB_MAX_BYTES;
  }

  async put(key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<PutResult> {
    const capped = openBody(key, body, opts.maxBytes, this.defaultMaxBytes);
    const target = this.pathOf(key);
    const tmp = join(this.tmpDir, `${randomUUID()}.part`);
    let handle: FileHandle | undefined;
    let placed = false;
    try {
      await storage(() => mkdir(this.tmpDir, { recursive: true }));
      handle = await storage(() => open(tmp, 'wx'));
      // Chunks arrive at the socket's size (often 64 KiB); writing them in batches of 4 MiB saves most of
      // the system calls a large blob would otherwise cost. One batch is written (on the thread pool)
      // while the next is received and hashed, so a large upload costs the slower of the two, not both.
      let batch: Buffer[] = [];
      let batched = 0;
      let writing: Promise<void> | undefined;
      let syncing: Promise<void> | undefined;
      let syncFailure: unknown;
      let unsynced = 0;
      const flush = async () => {
        if (writing) await writing;
        writing = undefined;
        // A failed flush is final: Linux reports a writeback error to one fsync only, so a later fsync
        // could succeed over lost bytes.
        if (syncFailure) throw syncFailure;
        if (unsynced >= SYNC_EVERY_BYTES && !syncing) {
          // Not awaited: the disk flushes these bytes while later batches are received and written.
          unsynced = 0;
          syncing = storage(() => (handle as FileHandle).datasync()).then(
            () => void (syncing = undefined),
            (error: unknown) => void ((syncFailure ??= error), (syncing = undefined)),
          );
        }
        if (!batched) return;
        const buffers = batch;
        unsynced += batched;
        batch = [];
        batched = 0;
        writing = storage(() => writeAll(handle as FileHandle, buffers));
        writing.catch(() => undefined); // awaited by the next flush; not unhandled meanwhile
      };
      for await (const chunk of capped.chunks()) {
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH_BYTES) await flush();
      }
      await flush();
      if (writing) await writing;
      if (syncing) await syncing;
      if (syncFailure) throw syncFailure;
      await storage(() => (handle as FileHandle).sync());
      const closing = handle;
      handle = undefined;
      await storage(() => closing.close());
      await this.moveIntoPlace(tmp, target);
      placed = true;
      return capped.result();
    } catch (error) {
      releaseBody(body);
      throw error;
    } finally {
      if (handle) await handle.close().catch(() => undefined);
      if (!placed) await rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    // A plain descriptor and fs.ReadStream: a FileHandle's stream reads through promises and costs about
    // a third more per blob served.
    const { fd, size } = await this.openForRead(key);
    // Each read allocates a buffer of this size outside the heap: a small blob must not cost a MiB of it
    // (on a large heap that garbage, not the copy, bounded small-blob reads: 308 against 659 req/s).
    const wanted = range ? range.end - range.start + 1 : size;
    const highWaterMark = Math.max(16 * 1024, Math.min(READ_CHUNK_BYTES, wanted));
    return createReadStream('', { fd, autoClose: true, highWaterMark, ...(range ?? {}) });
  }

  /**
   * Reads into buffers taken from a small shared pool and hands each back once `out` has written it:
   * a stream would allocate a fresh buffer outside the heap for every read, and on the store's large
   * heap that garbage is what bounds a registry serving layers (1 MiB blobs: see docs/performance.md).
   * Two buffers per request, so the next read overlaps the write before it.
   */
  async writeTo(key: string, out: Writable, range?: ByteRange): Promise<void> {
    const { fd, size } = await this.openForRead(key);
    // A failed write is reported to its callback, which rejects this call; the 'error' event that
    // follows it must not go unhandled (the listener stays: the event may come after we return).
    out.on('error', () => undefined);
    try {
      let position = range?.start ?? 0;
      const end = range ? range.end + 1 : size;
      let writing: { done: Promise<void>; buffer: Buffer } | undefined;
      while (position < end) {
        const buffer = readBuffers.take();
        const length = await readFully(fd, buffer, Math.min(buffer.length, end - position), position);
        if (length === 0) throw blobStoreUnavailable(new Error('the file ended before its size'));
        if (writing) {
          await writing.done;
          readBuffers.give(writing.buffer);
        }
        const done = writeChunk(out, buffer.subarray(0, length));
        done.catch(() => undefined); // awaited below; a failure while the next read runs is not unhandled
        writing = { done, buffer };
        position += length;
      }
      if (writing) {
        await writing.done;
        readBuffers.give(writing.buffer);
      }
      out.end();
    } finally {
      await closeFd(fd).catch(() => undefined);
    }
  }

  private async openForRead(key: string): Promise<{ fd: number; size: number }> {
    assertValidBlobKey(key);
    let fd: number;
    try {
      fd = await openFd(this.pathOf(key), 'r');
    } catch (error) {
      await this.rethrowUnlessAbsent(error);
      throw blobNotFound();
    }
    try {
      const info = await fstatFd(fd);
      if (!info.isFile()) throw blobNotFound();
      return { fd, size: info.size };
    } catch (error) {
      await closeFd(fd).catch(() => undefined);
      if (error instanceof DomainError) throw error;
      throw blobStoreUnavailable(error);
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    assertValidBlobKey(key);
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { key, size: info.size, lastModified: new Date(info.mtimeMs) } : null;
    } catch (error) {
      await this.rethrowUnlessAbsent(error);
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidBlobKey(key);
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (isAbsent(error)) return this.rethrowUnlessAbsent(error);
      // EISDIR (Linux) / EPERM (macOS) when the key names a directory of other blobs: no blob here.
      if (hasCode(error, 'EISDIR', 'EPERM') && (await stat(path).catch(() => null))?.isDirectory()) return;
      throw blobStoreUnavailable(error);
    }
    await this.pruneEmptyParents(dirname(path));
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    assertValidBlobPrefix(prefix);
    const baseRel = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    yield* this.walk(baseRel, prefix);
  }

  async ping(): Promise<void> {
    try {
      await mkdir(this.tmpDir, { recursive: true });
      await access(this.root, fsConstants.R_OK | fsConstants.W_OK);
      await access(this.tmpDir, fsConstants.R_OK | fsConstants.W_OK);
    } catch (error) {
      throw blobStoreUnavailable(error);
    }
  }

  /** Nothing to release; present so callers can close any driver. */
  async close(): Promise<void> {}

  /**
   * Removes temp files older than `olderThanMs` (leftovers of a process killed mid-put; a put that
   * fails in-process always removes its own). Returns how many were removed.
   */
  async purgeStaleTemp(olderThanMs = 60 * 60 * 1000): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch (error) {
      if (isAbsent(error)) return 0;
      throw blobStoreUnavailable(error);
    }
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of names) {
      const path = join(this.tmpDir, name);
      const info = await stat(path).catch(() => null);
      if (info?.isFile() && info.mtimeMs < cutoff) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /**
   * ENOENT/ENOTDIR below a usable root means "no such blob". Anything else, or a root that is not a
   * directory and cannot be made one, means the store itself is unusable. (A root that does not exist
   * yet is created, as the first put would do, so a fresh store reads as empty.)
   */
  private async rethrowUnlessAbsent(error: unknown): Promise<void> {
    if (isAbsent(error)) {
      const root = await stat(this.root).catch(() => null);
      if (root?.isDirectory()) return;
      if (
        !root &&
        (await mkdir(this.root, { recursive: true }).then(
          () => true,
          () => false,
        ))
      )
        return;
    }
    throw blobStoreUnavailable(error);
  }

  private pathOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  private async moveIntoPlace(tmp: string, target: string): Promise<void> {
    const dir = dirname(target);
    // A concurrent delete may prune the freshly made parent directory between mkdir and rename.
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(dir, { recursive: true });
        await rename(tmp, target);
        break;
      } catch (error) {
        if (hasCode(error, 'ENOENT') && attempt < 5) continue;
        if (hasCode(error, 'ENOTDIR', 'EEXIST', 'EISDIR', 'ENOTEMPTY')) {
          throw ArtifactsErrors.BlobKeyConflict();
        }
        throw blobStoreUnavailable(error);
      }
    }
    await syncDirectory(dir);
  }

  private async pruneEmptyParents(dir: string): Promise<void> {
    while (dir.startsWith(this.root + sep) && dir !== this.root) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone, or raced with a put): stop climbing
      }
      dir = dirname(dir);
    }
  }

  private async *walk(rel: string, prefix: string): AsyncGenerator<BlobInfo> {
    let entries;
    try {
      entries = await readdir(join(this.root, rel), { withFileTypes: true });
    } catch (error) {
      await this.rethrowUnlessAbsent(error);
      return;
    }
    // Sorting directories as "name/" yields keys in the same byte order S3 lists them in.
    const sorted = entries
      .filter((entry) => !entry.name.startsWith('.') && (entry.isFile() || entry.isDirectory()))
      .map((entry) => ({ entry, sortKey: entry.isDirectory() ? `${entry.name}/` : entry.name }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const { entry, sortKey } of sorted) {
      const keyOrDir = rel + sortKey;
      if (entry.isDirectory()) {
        if (keyOrDir.startsWith(prefix) || prefix.startsWith(keyOrDir)) yield* this.walk(keyOrDir, prefix);
        continue;
      }
      if (!keyOrDir.startsWith(prefix) || !isValidKey(keyOrDir)) continue;
      const info = await stat(join(this.root, keyOrDir)).catch((error: unknown) => {
        if (isAbsent(error)) return null; // deleted while we walked
        throw blobStoreUnavailable(error);
      });
      if (info?.isFile()) yield { key: keyOrDir, size: info.size, lastModified: new Date(info.mtimeMs) };
    }
  }
}

/**
 * Read buffers shared by every `writeTo`. A buffer goes back only after the write that used it reported
 * success (the socket no longer holds it); one whose write failed is left to the garbage collector.
 */
const readBuffers = {
  free: [] as Buffer[],
  /** Sixteen MiB kept at most: eight requests' worth; more at once allocate and drop the extras. */
  keep: 16,
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(READ_CHUNK_BYTES);
  },
  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  },
};

async function readFully(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await readFd(fd, buffer, done, length - done, position + done));
    } catch (error) {
      throw blobStoreUnavailable(error);
    }
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Settles when `out` has written `chunk`, or as soon as `out` closes (a callback may then never come). */
function writeChunk(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed || out.writableEnded) return reject(new Error('the response was closed'));
    const closed = () => reject(new Error('the response was closed'));
    out.once('close', closed);
    out.write(chunk, (error) => {
      out.off('close', closed);
      if (error) reject(error);
      else resolve();
    });
  });
}

/** One writev for the batch (no copy into a joined buffer); a short write continues from where it stopped. */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length) {
    let { bytesWritten } = await handle.writev(rest);
    if (bytesWritten === 0) throw new Error('the file system took no bytes');
    while (rest.length && bytesWritten >= rest[0].length) {
      bytesWritten -= rest[0].length;
      rest = rest.slice(1);
    }
    if (rest.length && bytesWritten > 0) rest = [rest[0].subarray(bytesWritten), ...rest.slice(1)];
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename durable. Some platforms cannot fsync a directory; the rename is still atomic.
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}

/** Runs a filesystem step of `put`, turning its failure into `blob_store_unavailable`. */
async function storage<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw error instanceof DomainError ? error : blobStoreUnavailable(error);
  }
}

function isValidKey(key: string): boolean {
  try {
    assertValidBlobKey(key);
    return true;
  } catch {
    return false;
  }
}

function isAbsent(error: unknown): boolean {
  return hasCode(error, 'ENOENT', 'ENOTDIR');
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}
