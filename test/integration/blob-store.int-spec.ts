/**
 * BlobStore conformance: the same behaviour, checked against every driver — `fs` on a temp directory
 * and `s3` against a real MinIO (`.tools/bin/minio`; a missing binary fails the suite with a hint).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import {
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DEFAULT_BLOB_MAX_BYTES,
  FS_BLOB_TMP_DIR,
  FsBlobStore,
  loadS3BlobStore,
  type BlobInfo,
  type BlobStore,
} from '@berth/artifacts';
import { DomainError, ErrorKind } from '@berth/common';
import { freePorts, startMinio, type MinioServer } from '../support/minio';

jest.setTimeout(30_000);

type Store = BlobStore & { close(): Promise<void> };

interface Harness {
  /** The store under test; for s3 it lists 10 keys per page so pagination is always exercised. */
  store: Store;
  /** Another store on the same backing storage with a small default size cap. */
  withDefaultMaxBytes(bytes: number): Store;
  /** A store whose backing storage cannot be reached, and strings its errors must not reveal. */
  unreachable(): Promise<{ store: Store; secrets: string[] }>;
  /** What a failed put could leave behind: fs temp files, s3 pending multipart uploads. */
  leftovers(): Promise<string[]>;
  /** Resolves once an in-flight put has visibly started writing (where the driver writes early). */
  partialWriteStarted(): Promise<void>;
  teardown(): Promise<void>;
}

const LIST_PAGE_SIZE = 10;
const MIB = 1024 * 1024;
/** The s3 harness's part size (S3's minimum): the large-body tests below span several parts. */
const PART = 5 * MIB;

async function fsHarness(): Promise<Harness> {
  const base = await mkdtemp(join(tmpdir(), 'berth-blobs-'));
  const root = join(base, 'root');
  const store = new FsBlobStore({ root });
  const tmpEntries = () => readdir(join(root, FS_BLOB_TMP_DIR)).catch(() => [] as string[]);
  return {
    store,
    withDefaultMaxBytes: (bytes) => new FsBlobStore({ root, defaultMaxBytes: bytes }),
    async unreachable() {
      const file = join(base, 'not-a-directory');
      await writeFile(file, 'x');
      return { store: new FsBlobStore({ root: join(file, 'blobs') }), secrets: [base, 'not-a-directory'] };
    },
    leftovers: tmpEntries,
    async partialWriteStarted() {
      for (let i = 0; i < 200 && (await tmpEntries()).length === 0; i++) await sleep(10);
      expect(await tmpEntries()).toHaveLength(1);
    },
    teardown: () => rm(base, { recursive: true, force: true }),
  };
}

/** The driver's options for a MinIO server, and a plain SDK client to look at the bucket behind its back. */
function s3Access(minio: MinioServer) {
  const options = {
    bucket: minio.bucket,
    region: minio.region,
    endpoint: minio.endpoint,
    forcePathStyle: true,
    accessKeyId: minio.accessKey,
    secretAccessKey: minio.secretKey,
  };
  const admin = new S3Client({
    endpoint: minio.endpoint,
    region: minio.region,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
  });
  return { options, admin };
}

async function s3Harness(): Promise<Harness> {
  const minio: MinioServer = await startMinio();
  const access = s3Access(minio);
  const options = { ...access.options, prefix: 'berth' };
  const admin = access.admin;
  const S3BlobStore = await loadS3BlobStore();
  // The smallest part S3 allows, so bodies of a few MiB already go as multipart uploads of several parts.
  const store = new S3BlobStore({ ...options, listPageSize: LIST_PAGE_SIZE, partSizeBytes: PART });
  const extra: Store[] = [];
  return {
    store,
    withDefaultMaxBytes(bytes) {
      const s = new S3BlobStore({ ...options, defaultMaxBytes: bytes });
      extra.push(s);
      return s;
    },
    async unreachable() {
      const [port] = await freePorts(1);
      const s = new S3BlobStore({
        ...options,
        bucket: 'secret-bucket-name',
        endpoint: `http://127.0.0.1:${port}`,
        maxAttempts: 1,
        connectTimeoutMs: 2000,
      });
      extra.push(s);
      return { store: s, secrets: ['127.0.0.1', String(port), 'secret-bucket-name', minio.accessKey] };
    },
    async leftovers() {
      const out = await admin.send(new ListMultipartUploadsCommand({ Bucket: minio.bucket }));
      return (out.Uploads ?? []).map((u) => u.Key ?? '?');
    },
    partialWriteStarted: () => sleep(50), // s3 buffers a part before sending: nothing to observe mid-put
    async teardown() {
      admin.destroy();
      await Promise.all([store, ...extra].map((s) => s.close()));
      await minio.stop();
    },
  };
}

describe.each([
  ['fs', fsHarness],
  ['s3', s3Harness],
] as const)('BlobStore conformance: %s driver', (driver, makeHarness) => {
  let h: Harness;
  let store: Store;
  beforeAll(async () => {
    h = await makeHarness();
    store = h.store;
  });
  afterAll(async () => {
    await h?.teardown();
  });
  afterEach(async () => {
    // Every failure path must clean up after itself; check after each test, not just the failing ones.
    expect(await h.leftovers()).toEqual([]);
  });

  it(`reports driver "${driver}"`, () => {
    expect(store.driver).toBe(driver);
  });

  describe('put / get round trip', () => {
    it('stores every byte value from a Buffer and reports its size and sha256', async () => {
      const bytes = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        randomBytes(10_000),
      ]);
      const result = await store.put('rt/buffer.bin', bytes);
      expect(result).toEqual({ size: bytes.length, sha256: sha256(bytes) });
      expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect((await readAll(await store.get('rt/buffer.bin'))).equals(bytes)).toBe(true);
    });

    it('streams a 3 MiB body in uneven chunks', async () => {
      const chunks = unevenChunks(3 * 1024 * 1024);
      const bytes = Buffer.concat(chunks);
      const result = await store.put('rt/stream.tgz', Readable.from(chunks), {
        contentType: 'application/gzip',
      });
      expect(result).toEqual({ size: 3 * 1024 * 1024, sha256: sha256(bytes) });
      const back = await readAll(await store.get('rt/stream.tgz'));
      expect(back.length).toBe(bytes.length);
      expect(sha256(back)).toBe(sha256(bytes));
      expect((await store.head('rt/stream.tgz'))?.size).toBe(bytes.length);
    });

    it('reads a byte range: first, middle and last bytes, inclusive offsets', async () => {
      const bytes = randomBytes(70_000);
      await store.put('rt/range.bin', bytes);
      const read = async (start: number, end: number) =>
        readAll(await store.get('rt/range.bin', { start, end }));
      expect((await read(0, 0)).equals(bytes.subarray(0, 1))).toBe(true);
      expect((await read(1000, 65_999)).equals(bytes.subarray(1000, 66_000))).toBe(true);
      expect((await read(69_990, 69_999)).equals(bytes.subarray(69_990))).toBe(true);
    });

    it('stores an empty blob', async () => {
      expect(await store.put('rt/empty', Buffer.alloc(0))).toEqual({
        size: 0,
        sha256: sha256(Buffer.alloc(0)),
      });
      expect(await readAll(await store.get('rt/empty'))).toHaveLength(0);
      expect((await store.head('rt/empty'))?.size).toBe(0);
    });

    it('returns a Node Readable from get', async () => {
      await store.put('rt/readable', Buffer.from('hello'));
      const stream = await store.get('rt/readable');
      expect(stream).toBeInstanceOf(Readable);
      expect((await readAll(stream)).toString()).toBe('hello');
    });
  });

  describe('head', () => {
    it('describes a present blob', async () => {
      await store.put('head/present.txt', Buffer.from('12345'));
      const info = await store.head('head/present.txt');
      expect(info).toEqual({ key: 'head/present.txt', size: 5, lastModified: expect.any(Date) });
      expect(Number.isFinite(info?.lastModified.getTime())).toBe(true);
    });

    it('returns null for an absent key and for a key that is only a prefix of others', async () => {
      expect(await store.head('head/absent')).toBeNull();
      await store.put('head/dir/child', Buffer.from('x'));
      expect(await store.head('head/dir')).toBeNull();
    });
  });

  describe('overwrite', () => {
    it('put replaces the blob under an existing key', async () => {
      await store.put('ow/key', Buffer.from('first version, longer'));
      const second = Buffer.from('second');
      expect(await store.put('ow/key', second)).toEqual({ size: 6, sha256: sha256(second) });
      expect((await readAll(await store.get('ow/key'))).toString()).toBe('second');
      expect((await store.head('ow/key'))?.size).toBe(6);
      expect((await collect(store.list('ow/'))).map((b) => b.key)).toEqual(['ow/key']);
    });

    it('concurrent puts to one key leave exactly one of the bodies, whole', async () => {
      const bodies = Array.from({ length: 6 }, () => randomBytes(200_000));
      await Promise.all(bodies.map((b) => store.put('ow/race', Readable.from(unevenChunksOf(b)))));
      const final = await readAll(await store.get('ow/race'));
      expect(bodies.some((b) => b.equals(final))).toBe(true);
    });
  });

  describe('get', () => {
    it('rejects an absent key with NotFound blob_not_found', async () => {
      await expectDomainError(store.get('get/absent'), ErrorKind.NotFound, 'blob_not_found');
    });

    it('rejects a key that is only a prefix of others with blob_not_found', async () => {
      await store.put('get/dir/child', Buffer.from('x'));
      await expectDomainError(store.get('get/dir'), ErrorKind.NotFound, 'blob_not_found');
    });
  });

  describe('writeTo', () => {
    /** A Writable that keeps what it was given and, like a socket, takes a while to take each chunk. */
    const sink = (opts: { failAfter?: number } = {}) => {
      const chunks: Buffer[] = [];
      let taken = 0;
      const out = new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _enc, done) {
          taken += chunk.length;
          if (opts.failAfter !== undefined && taken > opts.failAfter)
            return done(new Error('peer went away'));
          chunks.push(Buffer.from(chunk)); // a copy: the driver may reuse its buffer once this is done
          setImmediate(done);
        },
      });
      return { out, bytes: () => Buffer.concat(chunks) };
    };

    it('writes a blob larger than the read size whole, in order, and ends the stream', async () => {
      const bytes = randomBytes(2.5 * 1024 * 1024);
      await store.put('wt/big', bytes);
      const { out, bytes: got } = sink();
      const finished = new Promise((r) => out.on('finish', r));
      await store.writeTo('wt/big', out);
      await finished;
      expect(sha256(got())).toBe(sha256(bytes));
    });

    it('writes ranges, and two concurrent readers of different blobs get their own bytes', async () => {
      const a = randomBytes(1024 * 1024 + 17);
      const b = randomBytes(300_000);
      await Promise.all([store.put('wt/a', a), store.put('wt/b', b)]);
      const [sa, sb, sr] = [sink(), sink(), sink()];
      await Promise.all([
        store.writeTo('wt/a', sa.out),
        store.writeTo('wt/b', sb.out),
        store.writeTo('wt/a', sr.out, { start: 5, end: 1024 * 1024 + 5 }),
      ]);
      expect(sa.bytes().equals(a)).toBe(true);
      expect(sb.bytes().equals(b)).toBe(true);
      expect(sr.bytes().equals(a.subarray(5, 1024 * 1024 + 6))).toBe(true);
    });

    it('rejects an absent key with blob_not_found before writing anything', async () => {
      const { out, bytes } = sink();
      await expectDomainError(store.writeTo('wt/absent', out), ErrorKind.NotFound, 'blob_not_found');
      expect(bytes()).toHaveLength(0);
      expect(out.writableEnded).toBe(false);
    });

    it('rejects when the destination fails mid-way, and the next reader is unaffected', async () => {
      const bytes = randomBytes(3 * 1024 * 1024);
      await store.put('wt/broken', bytes);
      const broken = sink({ failAfter: 1024 * 1024 });
      await expect(store.writeTo('wt/broken', broken.out)).rejects.toThrow();
      const whole = sink();
      await store.writeTo('wt/broken', whole.out);
      expect(sha256(whole.bytes())).toBe(sha256(bytes));
    });
  });

  describe('delete', () => {
    it('removes a blob and is idempotent', async () => {
      await store.put('del/one', Buffer.from('bye'));
      await store.delete('del/one');
      expect(await store.head('del/one')).toBeNull();
      await expectDomainError(store.get('del/one'), ErrorKind.NotFound, 'blob_not_found');
      await expect(store.delete('del/one')).resolves.toBeUndefined();
      await expect(store.delete('del/never/existed')).resolves.toBeUndefined();
    });

    it('deleting a key that is only a prefix of others removes nothing', async () => {
      await store.put('del/dir/a', Buffer.from('a'));
      await store.put('del/dir/b', Buffer.from('b'));
      await store.delete('del/dir');
      await store.delete('del/dir/a');
      expect((await collect(store.list('del/'))).map((b) => b.key)).toEqual(['del/dir/b']);
      expect((await readAll(await store.get('del/dir/b'))).toString()).toBe('b');
    });

    it('a key can be written again after delete', async () => {
      await store.put('del/again/x', Buffer.from('1'));
      await store.delete('del/again/x');
      await store.put('del/again/x', Buffer.from('2'));
      expect((await readAll(await store.get('del/again/x'))).toString()).toBe('2');
    });
  });

  describe('list', () => {
    beforeAll(async () => {
      for (const key of ['ls/a/1', 'ls/a/2.tgz', 'ls/a-b', 'ls/ab', 'ls/b/c/d', 'ls.sibling', 'lsx/1']) {
        await store.put(key, Buffer.from(key));
      }
    });

    it('yields every key under a directory-like prefix, in ascending key order, with sizes', async () => {
      const listed = await collect(store.list('ls/'));
      expect(listed.map((b) => b.key)).toEqual(['ls/a-b', 'ls/a/1', 'ls/a/2.tgz', 'ls/ab', 'ls/b/c/d']);
      for (const b of listed) {
        expect(b.size).toBe(Buffer.byteLength(b.key));
        expect(b.lastModified).toBeInstanceOf(Date);
      }
    });

    it('treats the prefix as a plain string prefix, like S3', async () => {
      expect((await collect(store.list('ls/a'))).map((b) => b.key)).toEqual([
        'ls/a-b',
        'ls/a/1',
        'ls/a/2.tgz',
        'ls/ab',
      ]);
      expect((await collect(store.list('ls/a/'))).map((b) => b.key)).toEqual(['ls/a/1', 'ls/a/2.tgz']);
      expect((await collect(store.list('ls'))).map((b) => b.key)).toEqual([
        'ls.sibling',
        'ls/a-b',
        'ls/a/1',
        'ls/a/2.tgz',
        'ls/ab',
        'ls/b/c/d',
        'lsx/1',
      ]);
      expect((await collect(store.list('ls/b/c/d'))).map((b) => b.key)).toEqual(['ls/b/c/d']);
    });

    it('yields nothing for a prefix with no keys', async () => {
      expect(await collect(store.list('nothing-here/'))).toEqual([]);
      expect(await collect(store.list('ls/zz'))).toEqual([]);
    });

    it('pages internally: 25 keys come back complete with a page size of 10', async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `page/k${String(i).padStart(2, '0')}`);
      await Promise.all(keys.map((k) => store.put(k, Buffer.from(k))));
      const spy = jest.spyOn(S3Client.prototype, 'send');
      try {
        const listed = await collect(store.list('page/'));
        expect(listed.map((b) => b.key)).toEqual(keys);
        if (driver === 's3') {
          const listCalls = spy.mock.calls.filter(([command]) => command instanceof ListObjectsV2Command);
          expect(listCalls).toHaveLength(Math.ceil(keys.length / LIST_PAGE_SIZE));
        }
      } finally {
        spy.mockRestore();
      }
    });

    it('can be consumed partially', async () => {
      for await (const first of store.list('page/')) {
        expect(first.key).toBe('page/k00');
        break;
      }
    });

    it('lists everything with an empty prefix', async () => {
      const all = (await collect(store.list(''))).map((b) => b.key);
      expect(all).toEqual(expect.arrayContaining(['ls/a/1', 'lsx/1', 'page/k24', 'rt/stream.tgz']));
      expect(all).toEqual([...all].sort());
    });
  });

  describe('size cap', () => {
    it('rejects a stream over maxBytes with TooLarge blob_too_large and stores nothing', async () => {
      const body = Readable.from(unevenChunks(1024 * 1024));
      await expectDomainError(
        store.put('cap/stream', body, { maxBytes: 512 * 1024 }),
        ErrorKind.TooLarge,
        'blob_too_large',
      );
      expect(await store.head('cap/stream')).toBeNull();
      expect(await collect(store.list('cap/'))).toEqual([]);
      expect(body.destroyed).toBe(true);
    });

    it('rejects a Buffer over maxBytes', async () => {
      await expectDomainError(
        store.put('cap/buffer', randomBytes(101), { maxBytes: 100 }),
        ErrorKind.TooLarge,
        'blob_too_large',
      );
      expect(await store.head('cap/buffer')).toBeNull();
    });

    it('accepts a body of exactly maxBytes', async () => {
      const bytes = randomBytes(4096);
      expect(await store.put('cap/exact', Readable.from(unevenChunksOf(bytes)), { maxBytes: 4096 })).toEqual({
        size: 4096,
        sha256: sha256(bytes),
      });
    });

    it('an oversized put leaves the existing blob under the key untouched', async () => {
      await store.put('cap/keep', Buffer.from('original'));
      await expectDomainError(
        store.put('cap/keep', Readable.from(unevenChunks(64 * 1024)), { maxBytes: 1000 }),
        ErrorKind.TooLarge,
        'blob_too_large',
      );
      expect((await readAll(await store.get('cap/keep'))).toString()).toBe('original');
    });

    it('applies the store default when no maxBytes is given', async () => {
      expect(DEFAULT_BLOB_MAX_BYTES).toBe(20 * 1024 * 1024);
      const small = h.withDefaultMaxBytes(1024);
      await expectDomainError(
        small.put('cap/default', Readable.from([randomBytes(1025)])),
        ErrorKind.TooLarge,
        'blob_too_large',
      );
      expect(await store.head('cap/default')).toBeNull();
      await expect(small.put('cap/default', randomBytes(1024))).resolves.toMatchObject({ size: 1024 });
    });

    it('rejects a nonsensical maxBytes as Invalid', async () => {
      await expectDomainError(store.put('cap/neg', Buffer.from('x'), { maxBytes: -1 }), ErrorKind.Invalid);
    });
  });

  describe('failing source stream', () => {
    it('rejects with the stream error and leaves nothing behind', async () => {
      const boom = new Error('client went away');
      const body = Readable.from(
        (async function* () {
          yield randomBytes(256 * 1024);
          yield randomBytes(256 * 1024);
          throw boom;
        })(),
      );
      await expect(store.put('fail/new', body)).rejects.toBe(boom);
      expect(await store.head('fail/new')).toBeNull();
      expect(await collect(store.list('fail/'))).toEqual([]);
    });

    it('leaves the previous blob under the key untouched', async () => {
      await store.put('fail/old', Buffer.from('still here'));
      const body = new Readable({ read() {} });
      const done = store.put('fail/old', body);
      body.push(randomBytes(64 * 1024));
      await h.partialWriteStarted();
      expect((await readAll(await store.get('fail/old'))).toString()).toBe('still here');
      body.destroy(new Error('aborted'));
      await expect(done).rejects.toThrow('aborted');
      expect((await readAll(await store.get('fail/old'))).toString()).toBe('still here');
    });
  });

  describe('bodies larger than one part (s3: multipart uploads)', () => {
    it('stores a streamed body of several parts and a last short one, whole and in order', async () => {
      const bytes = randomBytes(2 * PART + 1234);
      const put = await store.put('big/whole', Readable.from(unevenChunksOf(bytes)), { maxBytes: 3 * PART });
      expect(put).toEqual({ size: bytes.length, sha256: sha256(bytes) });
      expect((await store.head('big/whole'))?.size).toBe(bytes.length);
      expect((await readAll(await store.get('big/whole'))).equals(bytes)).toBe(true);
      const range = { start: PART - 10, end: PART + 9 };
      expect(
        (await readAll(await store.get('big/whole', range))).equals(bytes.subarray(PART - 10, PART + 10)),
      ).toBe(true);
    });

    it('stores a body of exactly two parts', async () => {
      const bytes = randomBytes(2 * PART);
      expect(
        await store.put('big/exact', Readable.from(unevenChunksOf(bytes)), { maxBytes: 2 * PART }),
      ).toEqual({
        size: bytes.length,
        sha256: sha256(bytes),
      });
      expect((await readAll(await store.get('big/exact'))).equals(bytes)).toBe(true);
    });

    it('passing maxBytes after parts were sent stores nothing and leaves no parts', async () => {
      await store.put('big/keep', Buffer.from('original'));
      const body = Readable.from(unevenChunks(3 * PART));
      await expectDomainError(
        store.put('big/keep', body, { maxBytes: 2 * PART + 100 }),
        ErrorKind.TooLarge,
        'blob_too_large',
      );
      expect(body.destroyed).toBe(true);
      expect((await readAll(await store.get('big/keep'))).toString()).toBe('original');
      // afterEach: no multipart upload is left pending.
    });

    it('a source failing after parts were sent rejects with its error and leaves nothing', async () => {
      const boom = new Error('client went away after 11 MiB');
      const body = Readable.from(
        (async function* () {
          for (let i = 0; i < 11; i++) yield randomBytes(MIB);
          throw boom;
        })(),
      );
      await expect(store.put('big/failed', body, { maxBytes: 4 * PART })).rejects.toBe(boom);
      expect(await store.head('big/failed')).toBeNull();
      expect(await collect(store.list('big/failed'))).toEqual([]);
    });
  });

  describe('visibility', () => {
    it('an in-flight put is invisible until it completes', async () => {
      const body = new Readable({ read() {} });
      const done = store.put('vis/slow', body);
      body.push(randomBytes(32 * 1024));
      await h.partialWriteStarted();
      expect(await store.head('vis/slow')).toBeNull();
      expect(await collect(store.list('vis/'))).toEqual([]);
      await expectDomainError(store.get('vis/slow'), ErrorKind.NotFound, 'blob_not_found');
      body.push(randomBytes(32 * 1024));
      body.push(null);
      expect((await done).size).toBe(64 * 1024);
      expect((await store.head('vis/slow'))?.size).toBe(64 * 1024);
    });
  });

  describe('key validation', () => {
    const bad = [
      '',
      '/leading',
      'trailing/',
      '..',
      '../escape',
      'a/../b',
      'a/./b',
      'a//b',
      '.hidden',
      `${FS_BLOB_TMP_DIR}/x`,
      'Upper',
      'sp ace',
      'back\\slash',
      'nul\0byte',
      'ünïcode',
      'x'.repeat(513),
    ];

    it.each(bad.map((k) => [JSON.stringify(k).slice(0, 40), k]))(
      'rejects %s in put/get/head/delete with Invalid blob_key_invalid',
      async (_label, key) => {
        const body = Readable.from([Buffer.from('x')]);
        await expectDomainError(store.put(key, body), ErrorKind.Invalid, 'blob_key_invalid');
        expect(body.destroyed).toBe(true);
        await expectDomainError(store.get(key), ErrorKind.Invalid, 'blob_key_invalid');
        await expectDomainError(store.head(key), ErrorKind.Invalid, 'blob_key_invalid');
        await expectDomainError(store.delete(key), ErrorKind.Invalid, 'blob_key_invalid');
      },
    );

    it('rejects bad list prefixes', async () => {
      for (const prefix of ['/x', '../', 'a//', '.tmp/', 'A']) {
        await expectDomainError(collect(store.list(prefix)), ErrorKind.Invalid, 'blob_key_invalid');
      }
    });

    it('accepts the whole allowed alphabet', async () => {
      const key = 'charts/abc-xyz_0.9/my-chart-1.2.3_rc.1.tgz';
      await store.put(key, Buffer.from('ok'));
      expect((await store.head(key))?.size).toBe(2);
    });
  });

  describe('concurrency', () => {
    it('handles concurrent puts to different keys', async () => {
      const bodies = Array.from({ length: 24 }, (_, i) => ({
        key: `conc/${i % 4}/blob-${i}`,
        bytes: randomBytes(50_000 + i),
      }));
      const results = await Promise.all(
        bodies.map(({ key, bytes }) => store.put(key, Readable.from(unevenChunksOf(bytes)))),
      );
      results.forEach((r, i) =>
        expect(r).toEqual({ size: bodies[i].bytes.length, sha256: sha256(bodies[i].bytes) }),
      );
      const back = await Promise.all(bodies.map(async ({ key }) => readAll(await store.get(key))));
      back.forEach((b, i) => expect(b.equals(bodies[i].bytes)).toBe(true));
      expect(await collect(store.list('conc/'))).toHaveLength(24);
    });

    it('handles concurrent puts and deletes in one directory', async () => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.put(`churn/d/${i}`, Buffer.from(`${i}`))));
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 ? store.delete(`churn/d/${i}`) : store.put(`churn/d/${i + 10}`, Buffer.from('new')),
        ),
      );
      const keys = (await collect(store.list('churn/'))).map((b) => b.key);
      expect(keys).toEqual([
        'churn/d/0',
        'churn/d/10',
        'churn/d/12',
        'churn/d/14',
        'churn/d/16',
        'churn/d/18',
        'churn/d/2',
        'churn/d/4',
        'churn/d/6',
        'churn/d/8',
      ]);
    });
  });

  describe('readiness', () => {
    it('ping resolves when the store is usable', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('an unreachable store fails with Unavailable blob_store_unavailable, revealing no location', async () => {
      const { store: down, secrets } = await h.unreachable();
      const calls = [
        () => down.ping(),
        () => down.put('x/y', Buffer.from('z')),
        () => down.get('x/y'),
        () => down.head('x/y'),
        () => down.delete('x/y'),
        () => collect(down.list('x/')),
        () => collect(down.list('')),
      ];
      for (const call of calls) {
        const error = await expectDomainError(call(), ErrorKind.Unavailable, 'blob_store_unavailable');
        const visible = `${error.message} ${JSON.stringify(error)} ${String(error)}`;
        for (const secret of secrets) expect(visible).not.toContain(secret);
        expect(visible).not.toContain('x/y');
      }
    });
  });
});

describe('fs driver specifics', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'berth-blobs-fs-'));
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('reads a root that does not exist yet as an empty store', async () => {
    const store = new FsBlobStore({ root: join(base, 'fresh', 'nested') });
    expect(await store.head('a/b')).toBeNull();
    expect(await collect(store.list(''))).toEqual([]);
    await expectDomainError(store.get('a/b'), ErrorKind.NotFound, 'blob_not_found');
    await store.delete('a/b');
    await store.ping();
  });

  it('keeps blobs as plain files under the root and removes emptied directories on delete', async () => {
    const store = new FsBlobStore({ root: join(base, 'plain') });
    await store.put('charts/acme/app-1.0.0.tgz', Buffer.from('tgz'));
    expect(await readdir(join(base, 'plain', 'charts', 'acme'))).toEqual(['app-1.0.0.tgz']);
    await store.delete('charts/acme/app-1.0.0.tgz');
    expect((await readdir(join(base, 'plain'))).sort()).toEqual([FS_BLOB_TMP_DIR]);
  });

  it('does not list stray files in the temp dir or names that are not keys', async () => {
    const root = join(base, 'stray');
    const store = new FsBlobStore({ root });
    await store.ping();
    await writeFile(join(root, FS_BLOB_TMP_DIR, 'orphan.part'), 'x');
    await writeFile(join(root, 'NOT-A-KEY'), 'x');
    await store.put('real', Buffer.from('x'));
    expect((await collect(store.list(''))).map((b) => b.key)).toEqual(['real']);
    expect(await store.purgeStaleTemp(0)).toBe(1);
    expect(await readdir(join(root, FS_BLOB_TMP_DIR))).toEqual([]);
  });

  it('reports a file/directory clash between keys as Conflict blob_key_conflict', async () => {
    const store = new FsBlobStore({ root: join(base, 'clash') });
    await store.put('a/b', Buffer.from('x'));
    await expectDomainError(store.put('a', Buffer.from('y')), ErrorKind.Conflict, 'blob_key_conflict');
    await expectDomainError(store.put('a/b/c', Buffer.from('y')), ErrorKind.Conflict, 'blob_key_conflict');
    expect(await readdir(join(base, 'clash', FS_BLOB_TMP_DIR))).toEqual([]);
  });
});

describe('s3 driver specifics', () => {
  let minio: MinioServer;
  let admin: S3Client;
  let options: ReturnType<typeof s3Access>['options'];
  beforeAll(async () => {
    minio = await startMinio();
    ({ options, admin } = s3Access(minio));
  });
  afterAll(async () => {
    admin?.destroy();
    await minio?.stop();
  });

  it('sends a body of up to one part as one object and a larger one as a multipart upload of parts', async () => {
    const S3BlobStore = await loadS3BlobStore();
    const store = new S3BlobStore({ ...options, partSizeBytes: PART });
    try {
      const etag = async (key: string) =>
        (await admin.send(new HeadObjectCommand({ Bucket: minio.bucket, Key: key }))).ETag ?? '';
      await store.put('one', Readable.from(unevenChunks(PART)), { maxBytes: 4 * PART });
      expect(await etag('one')).not.toMatch(/-\d+"?$/);
      await store.put('several', Readable.from(unevenChunks(3 * PART)), { maxBytes: 4 * PART });
      // S3 (and MinIO) mark a multipart object's ETag with its number of parts: parts are cut once at
      // least PART bytes are read, so 3 × PART makes two or three of them.
      expect(await etag('several')).toMatch(/-[23]"?$/);
    } finally {
      await store.close();
    }
  });

  it('refuses a part size below the 5 MiB S3 allows', async () => {
    const S3BlobStore = await loadS3BlobStore();
    expect(() => new S3BlobStore({ ...options, partSizeBytes: PART - 1 })).toThrow(/partSizeBytes/);
  });
});

// ---------------------------------------------------------------------------------------------------

async function expectDomainError(
  promise: Promise<unknown>,
  kind: ErrorKind,
  code?: string,
): Promise<DomainError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a ${kind} DomainError, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).kind).toBe(kind);
  if (code) expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function collect(list: AsyncIterable<BlobInfo>): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const info of list) out.push(info);
  return out;
}

/** Random bytes split into chunks of varying sizes (1 byte up to ~100 KiB). */
function unevenChunks(total: number): Buffer[] {
  return unevenChunksOf(randomBytes(total));
}

function unevenChunksOf(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  const sizes = [1, 7, 4096, 65_536, 100_003, 13];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
