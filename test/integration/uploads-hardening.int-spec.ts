import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';
import { OrphanBlobSweeper } from '@berth/catalog';
import { DataSource } from 'typeorm';
import { createPublisher, json, Publisher, uploadChart } from '../support/api';
import { provFor, simpleChart, tarGz } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';

const chartYaml = (name: string, version: string, extra = '') =>
  `apiVersion: v2\nname: ${name}\nversion: ${version}\n${extra}`;

/** A chart whose Chart.yaml, values.schema.json or README is given. */
const chartWith = (
  name: string,
  version: string,
  files: { extraYaml?: string; schema?: string; readme?: string },
) =>
  tarGz([
    { name: `${name}/Chart.yaml`, content: chartYaml(name, version, files.extraYaml) },
    { name: `${name}/values.yaml`, content: 'replicas: 1\n' },
    ...(files.schema !== undefined ? [{ name: `${name}/values.schema.json`, content: files.schema }] : []),
    ...(files.readme !== undefined ? [{ name: `${name}/README.md`, content: files.readme }] : []),
  ]);

async function blobKeys(store: InProcessStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const b of store.app.get<BlobStore>(BLOB_STORE).list('')) keys.push(b.key);
  return keys;
}

const tempFiles = (store: InProcessStore) => {
  try {
    return readdirSync(join(store.config.dataDir, 'blobs', '.tmp'));
  } catch {
    return [];
  }
};

async function versionRows(store: InProcessStore, chart: string, version?: string): Promise<number> {
  const rows = await store.app.get(DataSource).query(
    `SELECT count(*)::int AS n FROM chart_version v JOIN chart c ON c.id = v.chart_id
        WHERE c.name = $1 AND ($2::text IS NULL OR v.version = $2)`,
    [chart, version ?? null],
  );
  return rows[0].n as number;
}

const codeOf = async (res: Response) => ((await json(res)) as { code?: string }).code;

/** Inputs that passed inspection and then made the INSERT fail (500, blob left behind) before. */
const REFUSED: Array<[string, () => Promise<Buffer>, string]> = [
  [
    'a NUL in an annotation key of Chart.yaml',
    () => chartWith('nulkey', '1.0.0', { extraYaml: 'annotations:\n  "evil\\0key": "x"\n' }),
    'chart_yaml_invalid',
  ],
  [
    'a NUL in an annotation value of Chart.yaml',
    () => chartWith('nulvalue', '1.0.0', { extraYaml: 'annotations:\n  key: "x\\0y"\n' }),
    'chart_yaml_invalid',
  ],
  [
    'an unpaired surrogate in an annotation value of Chart.yaml',
    () => chartWith('surrogate', '1.0.0', { extraYaml: 'annotations:\n  key: "x\\ud800y"\n' }),
    'chart_yaml_invalid',
  ],
  [
    'a NUL in a key of values.schema.json',
    () => chartWith('schemakey', '1.0.0', { schema: '{"properties": {"a\\u0000b": {"type": "string"}}}' }),
    'values_schema_invalid',
  ],
  [
    'a NUL in a string of values.schema.json',
    () => chartWith('schemastr', '1.0.0', { schema: '{"description": "x\\u0000y"}' }),
    'values_schema_invalid',
  ],
  [
    'a values.schema.json nested 5,000 levels deep',
    () => chartWith('schemadeep', '1.0.0', { schema: `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}` }),
    'values_schema_invalid',
  ],
  [
    'a values.schema.json over 1 MiB',
    () =>
      chartWith('schemabig', '1.0.0', {
        schema: JSON.stringify({ description: 'x'.repeat(1024 * 1024 + 16) }),
      }),
    'values_schema_invalid',
  ],
];

describe('uploads: refused before anything is written, and nothing left behind when the insert fails', () => {
  let store: InProcessStore;
  let pub: Publisher;
  beforeAll(async () => {
    store = await startInProcess('postgres', { PUBLISHER_QUOTA_BYTES: String(64 * 1024) });
    pub = await createPublisher(store.url);
  }, 60_000);
  afterAll(async () => store?.close());

  it.each(REFUSED)(
    'refuses %s with 400, stores no row and no blob, then takes a good upload',
    async (_, make, code) => {
      const archive = await make();
      const before = await blobKeys(store);
      const res = await uploadChart(store.url, pub.slug, pub.apiToken, archive);
      expect([res.status, await codeOf(res)]).toEqual([400, code]);
      expect(await blobKeys(store)).toEqual(before);
      expect(tempFiles(store)).toEqual([]);
      // Only the good charts of earlier cases have rows (not even a chart row for the refused one).
      const rows = await store.app
        .get(DataSource)
        .query("SELECT name FROM chart WHERE name NOT LIKE 'good%'");
      expect(rows).toEqual([]);
      const good = await simpleChart(`good${randomBytes(3).toString('hex')}`, '1.0.0');
      expect((await uploadChart(store.url, pub.slug, pub.apiToken, good)).status).toBe(201);
    },
  );

  it('stores a README holding NUL characters (as U+FFFD) instead of failing the insert', async () => {
    const before = (await blobKeys(store)).length;
    const res = await uploadChart(
      store.url,
      pub.slug,
      pub.apiToken,
      await chartWith('nulreadme', '1.0.0', { readme: '# hello\u0000world\n' }),
    );
    expect(res.status).toBe(201);
    expect(await versionRows(store, 'nulreadme')).toBe(1);
    expect((await blobKeys(store)).length).toBe(before + 1);
    const [row] = await store.app
      .get(DataSource)
      .query(
        "SELECT readme FROM chart_version v JOIN chart c ON c.id = v.chart_id WHERE c.name = 'nulreadme'",
      );
    expect(row.readme).toBe('# hello\ufffdworld\n');
  });

  describe('a database failure that is not a DomainError', () => {
    beforeAll(async () => {
      // Injected faults: an ordinary error during the INSERT, and one raised only at COMMIT (a deferred
      // constraint trigger), both of which leave the transaction uncommitted.
      await store.app.get(DataSource).query(`
        CREATE FUNCTION test_fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected failure'; END $$;
        CREATE TRIGGER test_fail_insert BEFORE INSERT ON chart_version
          FOR EACH ROW WHEN (NEW.version = '6.6.6') EXECUTE FUNCTION test_fail_insert();
        CREATE CONSTRAINT TRIGGER test_fail_commit AFTER INSERT ON chart_version
          DEFERRABLE INITIALLY DEFERRED
          FOR EACH ROW WHEN (NEW.version = '7.7.7') EXECUTE FUNCTION test_fail_insert();
        CREATE FUNCTION test_drop_connection() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER test_lost_commit AFTER INSERT ON chart_version
          DEFERRABLE INITIALLY DEFERRED
          FOR EACH ROW WHEN (NEW.version = '9.9.9') EXECUTE FUNCTION test_drop_connection();
        CREATE TRIGGER test_fail_prov BEFORE UPDATE ON chart_version
          FOR EACH ROW WHEN (NEW.version = '8.8.8' AND NEW.prov_blob_key IS NOT NULL)
          EXECUTE FUNCTION test_fail_insert();
      `);
    });

    it.each([
      ['during the insert', '6.6.6'],
      ['at COMMIT', '7.7.7'],
    ])('answers 500 and deletes the blobs it wrote when the insert fails %s', async (_, version) => {
      const before = await blobKeys(store);
      const archive = await simpleChart('faulty', version);
      const form = new FormData();
      form.append('chart', new Blob([archive]), `faulty-${version}.tgz`);
      form.append('prov', new Blob([provFor('faulty', version, archive)]), `faulty-${version}.tgz.prov`);
      const res = await fetch(`${store.url}/api/${pub.slug}/charts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pub.apiToken}` },
        body: form,
      });
      expect(res.status).toBe(500);
      expect(JSON.stringify(await json(res))).not.toMatch(/injected|trigger|chart_version/);
      expect(await versionRows(store, 'faulty', version)).toBe(0);
      expect(await blobKeys(store)).toEqual(before);
      // The same chart at another version goes through.
      const good = await simpleChart('faulty', `1.${version[0]}.0`);
      expect((await uploadChart(store.url, pub.slug, pub.apiToken, good)).status).toBe(201);
    });
    it('leaves the blob to the sweeper only when the connection is lost during COMMIT (outcome unknown)', async () => {
      const before = await blobKeys(store);
      const res = await uploadChart(store.url, pub.slug, pub.apiToken, await simpleChart('faulty', '9.9.9'));
      expect([res.status, await codeOf(res)]).toEqual([503, 'service_unavailable']);
      // The pool may hand out the killed connection once more before it notices the socket closed.
      for (let i = 0; i < 3; i++) {
        if (
          await store.app
            .get(DataSource)
            .query('SELECT 1')
            .then(
              () => true,
              () => false,
            )
        )
          break;
      }
      expect(await versionRows(store, 'faulty', '9.9.9')).toBe(0);
      const kept = (await blobKeys(store)).filter((k) => !before.includes(k));
      expect(kept).toHaveLength(1);
      // The sweeper, once the grace period has passed, finds no row for it and deletes it.
      const later = Date.now() + 2 * store.config.uploads.orphanGraceSeconds * 1000;
      expect(await store.app.get(OrphanBlobSweeper).sweep(later)).toEqual(kept);
      expect(await blobKeys(store)).toEqual(before);
    });

    it('answers 500 and deletes the .prov blob when attaching a provenance file fails in the database', async () => {
      const archive = await simpleChart('faulty', '8.8.8');
      expect((await uploadChart(store.url, pub.slug, pub.apiToken, archive)).status).toBe(201);
      const before = await blobKeys(store);
      const res = await fetch(`${store.url}/api/${pub.slug}/prov`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pub.apiToken}` },
        body: provFor('faulty', '8.8.8', archive),
      });
      expect(res.status).toBe(500);
      expect(await blobKeys(store)).toEqual(before);
    });
  });

  it('refuses an upload past PUBLISHER_QUOTA_BYTES with 413 publisher_quota_exceeded before writing it', async () => {
    const owner = await createPublisher(store.url);
    const big = (version: string) =>
      tarGz([
        { name: 'heavy/Chart.yaml', content: chartYaml('heavy', version) },
        { name: 'heavy/files/noise', content: randomBytes(24 * 1024) },
      ]);
    expect((await uploadChart(store.url, owner.slug, owner.apiToken, await big('1.0.0'))).status).toBe(201);
    expect((await uploadChart(store.url, owner.slug, owner.apiToken, await big('1.0.1'))).status).toBe(201);
    const before = await blobKeys(store);
    const over = await uploadChart(store.url, owner.slug, owner.apiToken, await big('1.0.2'));
    expect([over.status, await codeOf(over)]).toEqual([413, 'publisher_quota_exceeded']);
    expect(await blobKeys(store)).toEqual(before);
    expect(await versionRows(store, 'heavy')).toBe(2);
    // Another publisher's quota is its own.
    const other = await createPublisher(store.url);
    expect((await uploadChart(store.url, other.slug, other.apiToken, await big('1.0.0'))).status).toBe(201);
  });

  it('lets at most one of several racing uploads of one publisher take the last room in its quota', async () => {
    const owner = await createPublisher(store.url);
    const archives = await Promise.all(
      ['1.0.0', '1.0.1', '1.0.2', '1.0.3'].map((v) =>
        tarGz([
          { name: 'race/Chart.yaml', content: chartYaml('race', v) },
          { name: 'race/files/noise', content: randomBytes(40 * 1024) },
        ]),
      ),
    );
    const before = (await blobKeys(store)).length;
    const statuses = await Promise.all(
      archives.map((a) => uploadChart(store.url, owner.slug, owner.apiToken, a)),
    );
    expect(statuses.map((r) => r.status).sort()).toEqual([201, 413, 413, 413]);
    expect((await blobKeys(store)).length).toBe(before + 1); // the losers' blobs were deleted
    const [row] = await store.app.get(DataSource).query(
      `SELECT sum(v.size)::int AS used FROM chart_version v JOIN chart c ON c.id = v.chart_id
          WHERE c.name = 'race'`,
    );
    expect(row.used).toBeLessThanOrEqual(64 * 1024);
    // The running total the quota reads is exactly what the winner stored; the losers added nothing.
    const [usage] = await store.app
      .get(DataSource)
      .query(
        `SELECT u.stored_bytes::int AS total FROM publisher_usage u JOIN publisher p ON p.id = u.publisher_id WHERE p.slug = $1`,
        [owner.slug],
      );
    expect(usage.total).toBe(row.used);
  });
});

describe('upload slots and slow bodies', () => {
  let store: InProcessStore;
  let a: Publisher;
  let b: Publisher;
  beforeAll(async () => {
    store = await startInProcess('postgres', {
      UPLOAD_CONCURRENCY: '2',
      UPLOAD_CONCURRENCY_PER_PUBLISHER: '1',
      UPLOAD_IDLE_TIMEOUT_SECONDS: '2',
      UPLOAD_MIN_BYTES_PER_SECOND: '2000',
    });
    a = await createPublisher(store.url);
    b = await createPublisher(store.url);
  }, 60_000);
  afterAll(async () => store?.close());

  /** Starts an upload that sends `first` bytes now and the rest only when `send` is called (if ever). */
  function slowUpload(pub: Publisher, chart: Buffer, first = 10) {
    const url = new URL(`${store.url}/api/${pub.slug}/charts`);
    let req!: ReturnType<typeof request>;
    const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${pub.apiToken}`, 'content-length': chart.length },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write(chart.subarray(0, first));
    });
    return { done, req };
  }

  it("keeps one publisher's slow uploads from blocking another publisher", async () => {
    const slow = slowUpload(a, await simpleChart('held', '1.0.0'));
    await new Promise((r) => setTimeout(r, 200));
    // A holds its one slot; its next upload is told to retry, B's goes through.
    const again = await uploadChart(store.url, a.slug, a.apiToken, await simpleChart('held', '1.0.1'));
    expect([again.status, await codeOf(again)]).toEqual([429, 'publisher_uploads_busy']);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(
      (await uploadChart(store.url, b.slug, b.apiToken, await simpleChart('other', '1.0.0'))).status,
    ).toBe(201);
    const cut = await slow.done;
    expect(cut.status).toBe(408);
    expect(JSON.parse(cut.body).code).toBe('upload_too_slow');
  }, 20_000);

  it('cuts off a body that stops sending with 408 upload_too_slow and frees the slot', async () => {
    const slow = slowUpload(a, await simpleChart('stalled', '1.0.0'));
    const cut = await slow.done;
    expect([cut.status, JSON.parse(cut.body).code]).toEqual([408, 'upload_too_slow']);
    expect(
      (await uploadChart(store.url, a.slug, a.apiToken, await simpleChart('stalled', '1.0.0'))).status,
    ).toBe(201);
    expect(await versionRows(store, 'stalled')).toBe(1);
  }, 20_000);

  it('cuts off a body that trickles below UPLOAD_MIN_BYTES_PER_SECOND, though it never goes idle', async () => {
    const chart = await simpleChart('trickle', '1.0.0');
    const slow = slowUpload(a, chart, 1);
    let sent = 1;
    const timer = setInterval(() => {
      if (sent < chart.length) slow.req.write(chart.subarray(sent, ++sent));
    }, 100);
    try {
      const cut = await slow.done;
      expect([cut.status, JSON.parse(cut.body).code]).toEqual([408, 'upload_too_slow']);
    } finally {
      clearInterval(timer);
    }
    expect((await uploadChart(store.url, a.slug, a.apiToken, chart)).status).toBe(201);
  }, 20_000);

  it('frees the slot of a multipart upload whose client goes away mid-body', async () => {
    const url = new URL(`${store.url}/api/${a.slug}/charts`);
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: {
        authorization: `Bearer ${a.apiToken}`,
        'content-type': 'multipart/form-data; boundary=xyz',
        'content-length': 10_000,
      },
    });
    req.on('error', () => undefined);
    req.write('--xyz\r\ncontent-disposition: form-data; name="chart"; filename="c.tgz"\r\n\r\nabc');
    await new Promise((r) => setTimeout(r, 200));
    req.destroy();
    await new Promise((r) => setTimeout(r, 200));
    // Well before the idle timeout: the slot is already free.
    expect(
      (await uploadChart(store.url, a.slug, a.apiToken, await simpleChart('gone', '1.0.0'))).status,
    ).toBe(201);
  }, 20_000);
});

describe('orphan sweep at start', () => {
  it('removes orphan blobs and stale .part files left by a crash when the store starts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-sweep-'));
    const root = join(dataDir, 'blobs');
    const orphan = join(root, 'charts', 'crashed', 'orphan.tgz');
    const stalePart = join(root, '.tmp', 'stale.part');
    const freshPart = join(root, '.tmp', 'fresh.part');
    for (const f of [orphan, stalePart, freshPart]) {
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, 'left behind');
    }
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    utimesSync(orphan, old, old);
    utimesSync(stalePart, old, old);
    const store = await startInProcess('postgres', { DATA_DIR: dataDir });
    try {
      await store.app.get(OrphanBlobSweeper).startupSweep;
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(stalePart)).toBe(false);
      expect(existsSync(freshPart)).toBe(true);
    } finally {
      await store.close();
    }
  }, 60_000);
});
