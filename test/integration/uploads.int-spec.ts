import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataSource } from 'typeorm';
import { createPublisher, json, Publisher, uploadChart } from '../support/api';
import { simpleChart, tarGz } from '../support/charts';
import { DatabaseKind, InProcessStore, startInProcess } from '../support/in-process';

function countBlobs(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else n++;
    }
  };
  walk(dir);
  return n;
}

const chartYaml = (name: string, version: string) => `apiVersion: v2\nname: ${name}\nversion: ${version}\n`;
const withChartYaml = (yaml: string, dir = 'bad') =>
  tarGz([
    { name: `${dir}/Chart.yaml`, content: yaml },
    { name: `${dir}/values.yaml`, content: '' },
  ]);

/** Each bad archive with the status and stable code it must get. */
const BAD_UPLOADS: Array<[string, () => Promise<Buffer> | Buffer, number, string]> = [
  ['not gzip', () => Buffer.from('this is not a chart archive at all'), 400, 'archive_not_gzip'],
  ['truncated', async () => (await simpleChart('trunc', '1.0.0')).subarray(0, 60), 400, 'archive_corrupt'],
  ['empty archive', () => tarGz([]), 400, 'archive_empty'],
  [
    'a .. path',
    () =>
      tarGz([
        { name: 'evil/Chart.yaml', content: chartYaml('evil', '1.0.0') },
        { name: 'evil/../../etc/passwd', content: 'x' },
      ]),
    400,
    'archive_path_unsafe',
  ],
  [
    'an absolute path',
    () => tarGz([{ name: '/etc/evil/Chart.yaml', content: chartYaml('evil', '1.0.0') }]),
    400,
    'archive_path_unsafe',
  ],
  [
    'a drive-letter path',
    () => tarGz([{ name: 'C:/evil/Chart.yaml', content: chartYaml('evil', '1.0.0') }]),
    400,
    'archive_path_unsafe',
  ],
  [
    'a symlink',
    () =>
      tarGz([
        { name: 'evil/Chart.yaml', content: chartYaml('evil', '1.0.0') },
        { name: 'evil/templates/x.yaml', type: 'symlink', linkname: '/etc/passwd' },
      ]),
    400,
    'archive_entry_type',
  ],
  [
    'a hard link',
    () =>
      tarGz([
        { name: 'evil/Chart.yaml', content: chartYaml('evil', '1.0.0') },
        { name: 'evil/values.yaml', type: 'link', linkname: 'evil/Chart.yaml' },
      ]),
    400,
    'archive_entry_type',
  ],
  [
    'a device',
    () =>
      tarGz([
        { name: 'evil/Chart.yaml', content: chartYaml('evil', '1.0.0') },
        { name: 'evil/dev', type: 'character-device' },
      ]),
    400,
    'archive_entry_type',
  ],
  [
    'Chart.yaml at the root',
    () => tarGz([{ name: 'Chart.yaml', content: chartYaml('evil', '1.0.0') }]),
    400,
    'archive_layout',
  ],
  [
    'two top-level folders',
    () =>
      tarGz([
        { name: 'a/Chart.yaml', content: chartYaml('a', '1.0.0') },
        { name: 'b/Chart.yaml', content: chartYaml('b', '1.0.0') },
      ]),
    400,
    'archive_layout',
  ],
  [
    'duplicate Chart.yaml',
    () =>
      tarGz([
        { name: 'dup/Chart.yaml', content: chartYaml('dup', '1.0.0') },
        { name: 'dup/Chart.yaml', content: chartYaml('dup', '9.9.9') },
      ]),
    400,
    'archive_duplicate_entry',
  ],
  [
    'a gzip bomb (over 100 MiB decompressed)',
    () =>
      tarGz([
        { name: 'bomb/Chart.yaml', content: chartYaml('bomb', '1.0.0') },
        ...Array.from({ length: 21 }, (_, i) => ({
          name: `bomb/f${i}`,
          content: Buffer.alloc(5 * 1024 * 1024 - 1024),
        })),
      ]),
    413,
    'archive_too_large',
  ],
  [
    'one file over 5 MiB',
    () =>
      tarGz([
        { name: 'big/Chart.yaml', content: chartYaml('big', '1.0.0') },
        { name: 'big/blob', content: Buffer.alloc(5 * 1024 * 1024 + 1) },
      ]),
    413,
    'archive_file_too_large',
  ],
  [
    'more than 10,000 entries',
    () =>
      tarGz([
        { name: 'many/Chart.yaml', content: chartYaml('many', '1.0.0') },
        ...Array.from({ length: 10_001 }, (_, i) => ({ name: `many/f/${i}`, content: '' })),
      ]),
    413,
    'archive_too_many_entries',
  ],
  ['Chart.yaml that is not a mapping', () => withChartYaml('- a\n- b\n'), 400, 'chart_yaml_invalid'],
  [
    'Chart.yaml without apiVersion',
    () => withChartYaml('name: bad\nversion: 1.0.0\n'),
    400,
    'chart_api_version_invalid',
  ],
  [
    'Chart.yaml without name',
    () => withChartYaml('apiVersion: v2\nversion: 1.0.0\n'),
    400,
    'chart_name_invalid',
  ],
  [
    'Chart.yaml without version',
    () => withChartYaml('apiVersion: v2\nname: bad\n'),
    400,
    'chart_version_invalid',
  ],
  [
    'a YAML alias bomb',
    () =>
      withChartYaml(
        `apiVersion: v2\nname: bad\nversion: 1.0.0\na: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n`,
      ),
    400,
    'chart_yaml_invalid',
  ],
  [
    'an uppercase name',
    () => withChartYaml(chartYaml('BadName', '1.0.0'), 'BadName'),
    400,
    'chart_name_invalid',
  ],
  [
    'a name over 63 characters',
    () => withChartYaml(chartYaml('a'.repeat(64), '1.0.0'), 'a'.repeat(64)),
    400,
    'chart_name_invalid',
  ],
  ['the name ..', () => withChartYaml(chartYaml('..', '1.0.0'), 'dots'), 400, 'chart_name_invalid'],
  ['the name .', () => withChartYaml(chartYaml('.', '1.0.0'), 'dot'), 400, 'chart_name_invalid'],
  ['a path-like name', () => withChartYaml(chartYaml('a/b', '1.0.0'), 'ab'), 400, 'chart_name_invalid'],
  ['version v1.0.0', () => withChartYaml(chartYaml('bad', 'v1.0.0')), 400, 'chart_version_invalid'],
  ['version 1.0', () => withChartYaml(chartYaml('bad', '"1.0"')), 400, 'chart_version_invalid'],
  ['version 01.0.0', () => withChartYaml(chartYaml('bad', '01.0.0')), 400, 'chart_version_invalid'],
  [
    'a version number past 2^53',
    () => withChartYaml(chartYaml('huge', '9007199254740993.0.0'), 'huge'),
    400,
    'chart_version_invalid',
  ],
  [
    'an appVersion over 255 characters',
    () => withChartYaml(`${chartYaml('longapp', '1.0.0')}appVersion: "${'a'.repeat(300)}"\n`, 'longapp'),
    400,
    'chart_app_version_invalid',
  ],
];

describe.each<DatabaseKind>(['postgres', 'embedded'])('uploads on %s', (kind) => {
  let store: InProcessStore;
  let pub: Publisher;
  let other: Publisher;
  let good = 0;

  const versionRows = async () =>
    Number((await store.app.get(DataSource).query('SELECT count(*)::int AS n FROM chart_version'))[0].n);
  const blobCount = () => countBlobs(join(store.config.dataDir, 'blobs', 'charts'));
  /** A fresh valid upload must still work after every refusal. */
  const expectNextGoodUploadWorks = async () => {
    good += 1;
    const res = await uploadChart(
      store.url,
      pub.slug,
      pub.apiToken,
      await simpleChart('good', `1.0.${good}`),
    );
    expect(res.status).toBe(201);
  };

  beforeAll(async () => {
    store = await startInProcess(kind);
    pub = await createPublisher(store.url, 'acme');
    other = await createPublisher(store.url, 'globex');
  }, 120_000);
  afterAll(async () => store?.close());

  it('accepts a chart, refuses the same version again whatever the query says, and keeps the first bytes', async () => {
    const first = await simpleChart('superdb', '1.2.0');
    expect((await uploadChart(store.url, pub.slug, pub.apiToken, first)).status).toBe(201);
    const rows = await versionRows();
    const blobs = blobCount();
    const again = await simpleChart('superdb', '1.2.0', {
      'Chart.yaml': 'apiVersion: v2\nname: superdb\nversion: 1.2.0\ndescription: changed\n',
    });
    for (const q of ['', '?force', '?force=true']) {
      const res = await uploadChart(store.url, pub.slug, pub.apiToken, again, q);
      expect(res.status).toBe(409);
      expect(await json(res)).toEqual({
        error: expect.stringContaining('immutable'),
        code: 'chart_version_exists',
      });
    }
    expect(await versionRows()).toBe(rows);
    expect(blobCount()).toBe(blobs);
    const got = await fetch(`${store.url}/api/${pub.slug}/charts/superdb/1.2.0`, {
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect(((await got.json()) as { description: string }).description).toBe('A test chart called superdb');
  });

  it.each(BAD_UPLOADS)(
    'refuses %s with %i %s, stores nothing, and keeps serving',
    async (_label, make, status, code) => {
      const rows = await versionRows();
      const blobs = blobCount();
      const res = await uploadChart(store.url, pub.slug, pub.apiToken, await make());
      const body = (await json(res)) as { error: string; code: string };
      expect({ status: res.status, code: body.code }).toEqual({ status, code });
      expect(typeof body.error).toBe('string');
      expect(await versionRows()).toBe(rows);
      expect(blobCount()).toBe(blobs);
      await expectNextGoodUploadWorks();
    },
    60_000,
  );

  it('refuses a body over the upload limit with 413 before reading it all', async () => {
    const rows = await versionRows();
    const res = await uploadChart(
      store.url,
      pub.slug,
      pub.apiToken,
      Buffer.concat([gzipSync(Buffer.from('x')), Buffer.alloc(21 * 1024 * 1024)]),
    );
    expect(res.status).toBe(413);
    expect(((await json(res)) as { code: string }).code).toBe('upload_too_large');
    expect(await versionRows()).toBe(rows);
    await expectNextGoodUploadWorks();
  });

  it('needs a token of this publisher that is not revoked', async () => {
    const chart = await simpleChart('authz', '1.0.0');
    const none = await fetch(`${store.url}/api/${pub.slug}/charts`, { method: 'POST', body: chart });
    expect([none.status, ((await json(none)) as { code: string }).code]).toEqual([401, 'auth_required']);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const foreign = await uploadChart(store.url, pub.slug, other.apiToken, chart);
    // Another publisher's token is answered like an unknown one (credential-lifecycle.int-spec.ts).
    expect([foreign.status, ((await json(foreign)) as { code: string }).code]).toEqual([
      401,
      'api_token_invalid',
    ]);
    const garbage = await uploadChart(store.url, pub.slug, 'berth_pat_not-a-real-token', chart);
    expect(garbage.status).toBe(401);

    // A revoked token stops working at once.
    const list = await fetch(`${store.url}/v1/publishers/${other.slug}/tokens`, {
      headers: { authorization: `Bearer ${other.accessToken}` },
    });
    const [token] = (await list.json()) as Array<{ id: string }>;
    const del = await fetch(`${store.url}/v1/publishers/${other.slug}/tokens/${token.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${other.accessToken}` },
    });
    expect(del.status).toBe(204);
    const revoked = await uploadChart(store.url, other.slug, other.apiToken, chart);
    expect([revoked.status, ((await json(revoked)) as { code: string }).code]).toEqual([
      401,
      'api_token_invalid',
    ]);

    // Basic auth with the token as password works, as ChartMuseum clients send it.
    const basic = await fetch(`${store.url}/api/${pub.slug}/charts`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`anything:${pub.apiToken}`).toString('base64')}` },
      body: chart,
    });
    expect(basic.status).toBe(201);
    expect(await basic.json()).toEqual({ saved: true });
  });

  it('takes multipart uploads with chart and prov fields, like helm cm-push', async () => {
    const chart = await simpleChart('multi', '2.0.0');
    const form = new FormData();
    form.append('chart', new Blob([chart]), 'multi-2.0.0.tgz');
    const res = await fetch(`${store.url}/api/${pub.slug}/charts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pub.apiToken}` },
      body: form,
    });
    expect(res.status).toBe(201);
    const pulled = await fetch(`${store.url}/helm/${pub.slug}/charts/multi-2.0.0.tgz`, {
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect(Buffer.from(await pulled.arrayBuffer()).equals(chart)).toBe(true);
  });
});

describe('upload limits that depend on configuration', () => {
  let store: InProcessStore;
  let pub: Publisher;
  beforeAll(async () => {
    store = await startInProcess('postgres', {
      UPLOAD_MAX_BYTES: String(40 * 1024 * 1024),
      UPLOAD_CONCURRENCY: '1',
    });
    pub = await createPublisher(store.url, 'bigco');
  }, 60_000);
  afterAll(async () => store?.close());

  it('stores a chart larger than the 20 MiB default when UPLOAD_MAX_BYTES allows it', async () => {
    const noise = () => randomBytes(4 * 1024 * 1024 + 512 * 1024);
    const archive = await tarGz([
      { name: 'big/Chart.yaml', content: chartYaml('big', '1.0.0') },
      ...Array.from({ length: 5 }, (_, i) => ({ name: `big/files/n${i}`, content: noise() })),
    ]);
    expect(archive.length).toBeGreaterThan(21 * 1024 * 1024);
    const res = await uploadChart(store.url, 'bigco', pub.apiToken, archive);
    expect(res.status).toBe(201);
    const served = await fetch(`${store.url}/helm/bigco/charts/big-1.0.0.tgz`, {
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect(Buffer.from(await served.arrayBuffer()).equals(archive)).toBe(true);
  }, 60_000);

  it('tells an upload beyond UPLOAD_CONCURRENCY to retry, then takes the next one', async () => {
    const chart = await simpleChart('slot', '1.0.0');
    const url = new URL(`${store.url}/api/bigco/charts`);
    let finish: () => void = () => undefined;
    const slow = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${pub.apiToken}`, 'content-length': chart.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(chart.subarray(0, 10));
      finish = () => req.end(chart.subarray(10));
    });
    await new Promise((r) => setTimeout(r, 300));
    const busy = await uploadChart(store.url, 'bigco', pub.apiToken, await simpleChart('slot', '1.0.1'));
    expect([busy.status, ((await json(busy)) as { code: string }).code]).toEqual([503, 'uploads_busy']);
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
    finish();
    expect(await slow).toBe(201);
    expect(
      (await uploadChart(store.url, 'bigco', pub.apiToken, await simpleChart('slot', '1.0.1'))).status,
    ).toBe(201);
  });
});
