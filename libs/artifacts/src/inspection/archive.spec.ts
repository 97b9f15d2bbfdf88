import * as zlib from 'node:zlib';
import { ErrorKind } from '@berth/common';
import {
  DEFAULT_INSPECTION_LIMITS,
  inspectChartArchive,
  type InspectionLimits,
  resolveLimits,
} from './index';
import {
  chartEntries,
  chartTgz,
  minimalChartYaml,
  paxRecords,
  rawEntry,
  tarBuffer,
  type TarPart,
  tgz,
} from './testing/archives';
import { expectDomainError } from './testing/expect-domain-error';

const MiB = 1024 * 1024;
const CHART = { name: 'demo/Chart.yaml', data: minimalChartYaml() };

/** Inspects `archive` (with `limits`) and expects a DomainError with `code` whose message hides `hide`. */
const rejects = (
  archive: Promise<Buffer> | Buffer,
  code: string,
  kind = ErrorKind.Invalid,
  hide: string[] = [],
  limits: Partial<InspectionLimits> = {},
) => expectDomainError((async () => inspectChartArchive(await archive, limits))(), code, kind, hide);

describe('inspectChartArchive: accepted archives', () => {
  it('returns name, version, metadata and the top directory of a minimal chart', async () => {
    const chart = await inspectChartArchive(await chartTgz('demo', { 'Chart.yaml': minimalChartYaml() }));
    expect(chart).toEqual({
      name: 'demo',
      version: '1.0.0',
      apiVersion: 'v2',
      metadata: { name: 'demo', version: '1.0.0', apiVersion: 'v2', description: 'A demo chart' },
      topDirectory: 'demo',
      templateImages: [],
    });
  });

  it('lists the full image references written in the templates, with a registry host, once each, and not templated ones', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const chart = await inspectChartArchive(
      await chartTgz('demo', {
        'Chart.yaml': minimalChartYaml(),
        'templates/deployment.yaml': [
          'containers:',
          '  - image: "store.example.com/acme/app-server:1.2.3"',
          `  - image: registry.local:5000/acme/sidecar@${digest}`,
          '  - image: {{ .Values.image.repository }}:{{ .Values.image.tag }}',
          '  - image: nginx:1.27',
          '  - image: localhost/acme/tool',
          '  - image: "store.example.com/acme/app:{{ .Chart.AppVersion }}"',
          '  - image: store.example.com/acme/app-{{ .Values.flavour }}:1',
          'apiVersion: networking.k8s.io/v1',
          `  - image: ${'a.'.repeat(100_000)}`,
        ].join('\n'),
        'templates/more/job.yaml': 'image: store.example.com/acme/app-server:1.2.3\n',
        'values.yaml': 'image: store.example.com/acme/from-values:1\n',
        'charts/sub/templates/x.yaml': 'image: store.example.com/other/sub:1\n',
      }),
    );
    expect(chart.templateImages).toEqual([
      'store.example.com/acme/app-server:1.2.3',
      `registry.local:5000/acme/sidecar@${digest}`,
      'localhost/acme/tool',
    ]);
  });

  it('reads appVersion, README and values.schema.json, and ignores every other file', async () => {
    const chart = await inspectChartArchive(
      await chartTgz('demo', {
        'Chart.yaml': `${minimalChartYaml()}appVersion: "2.3"\n`,
        'README.md': '\ufeff# Demo\n',
        'values.schema.json': '{"type":"object"}',
        'values.yaml': 'replicas: 1\n',
        'templates/deployment.yaml': 'kind: Deployment\n',
        'charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 9.9.9\n',
      }),
    );
    expect(chart).toMatchObject({
      appVersion: '2.3',
      readme: '# Demo\n',
      valuesSchema: { type: 'object' },
      values: { text: 'replicas: 1\n', truncated: false },
    });
    expect(chart.name).toBe('demo');
  });

  it("keeps the chart's own values.yaml, not a subchart's, and cuts a long one on a character boundary", async () => {
    const sub = await inspectChartArchive(
      await chartTgz('demo', { 'Chart.yaml': minimalChartYaml(), 'charts/sub/values.yaml': 'a: 1\n' }),
    );
    expect(sub.values).toBeUndefined();
    const long = await inspectChartArchive(
      await chartTgz('demo', { 'Chart.yaml': minimalChartYaml(), 'values.yaml': `k: ${'é'.repeat(700)}\n` }),
      { maxValuesBytes: 1002 },
    );
    expect(long.values).toEqual({ text: `k: ${'é'.repeat(499)}`, truncated: true });
    const empty = await inspectChartArchive(
      await chartTgz('demo', { 'Chart.yaml': minimalChartYaml(), 'values.yaml': '' }),
    );
    expect(empty.values).toEqual({ text: '', truncated: false });
  });

  it('finds the README whatever its case and prefers README.md', async () => {
    const lower = await inspectChartArchive(
      await chartTgz('demo', { 'Chart.yaml': minimalChartYaml(), 'readme.MD': 'x' }),
    );
    expect(lower.readme).toBe('x');
    const both = await inspectChartArchive(
      await chartTgz('demo', {
        'Chart.yaml': minimalChartYaml(),
        'Readme.md': 'first',
        'README.md': 'exact',
        'readme.md': 'z',
      }),
    );
    expect(both.readme).toBe('exact');
    const nested = await inspectChartArchive(
      await chartTgz('demo', { 'Chart.yaml': minimalChartYaml(), 'docs/README.md': 'not this one' }),
    );
    expect(nested.readme).toBeUndefined();
  });

  it('truncates a long README at the cap without splitting a character', async () => {
    const readme = 'é'.repeat(700); // 1400 bytes
    const chart = await inspectChartArchive(
      await chartTgz('demo', { 'Chart.yaml': minimalChartYaml(), 'README.md': readme }),
      {
        maxReadmeBytes: 1001,
      },
    );
    expect(chart.readme).toBe('é'.repeat(500));
  });

  it('leaves valuesSchema undefined when values.schema.json is not JSON', async () => {
    const chart = await inspectChartArchive(
      await chartTgz('demo', { 'Chart.yaml': minimalChartYaml(), 'values.schema.json': '{"type": ' }),
    );
    expect(chart.valuesSchema).toBeUndefined();
    expect('valuesSchema' in chart).toBe(false);
  });

  it('normalises a leading ./ and empty segments, and accepts nested directory entries', async () => {
    const chart = await inspectChartArchive(
      await tgz([
        { name: './', type: 'directory' },
        { name: './demo/', type: 'directory' },
        { name: './demo/templates/', type: 'directory' },
        { name: './demo/Chart.yaml', data: minimalChartYaml() },
        { name: './demo//templates/./a.yaml', data: 'a: 1\n' },
      ]),
    );
    expect(chart.topDirectory).toBe('demo');
  });

  it('ignores a pax global header (git archive) and resolves pax and GNU long names', async () => {
    const longName = `demo/templates/${'x'.repeat(180)}.yaml`;
    const chart = await inspectChartArchive(
      await tgz([
        rawEntry('pax_global_header', 'g', paxRecords({ comment: '0123456789abcdef' })),
        CHART,
        { name: longName, data: 'a: 1\n' }, // tar-stream's pack writes a pax header for it
        rawEntry('././@LongLink', 'L', `demo/templates/${'y'.repeat(150)}.yaml\0`),
        rawEntry('demo/short', '0', 'b: 2\n'),
      ]),
    );
    expect(chart.name).toBe('demo');
  });

  it('accepts an archive whose top directory differs from the chart name (Helm strips it)', async () => {
    const chart = await inspectChartArchive(
      await chartTgz('whatever', { 'Chart.yaml': minimalChartYaml('demo') }),
    );
    expect(chart).toMatchObject({ name: 'demo', topDirectory: 'whatever' });
  });

  it('accepts a file of exactly maxFileBytes and exactly maxEntries entries', async () => {
    await expect(
      inspectChartArchive(await tgz([CHART, { name: 'demo/blob', zeros: 5 * MiB }])),
    ).resolves.toMatchObject({ name: 'demo' });
    const five = [CHART, ...Array.from({ length: 4 }, (_, i) => ({ name: `demo/f${i}`, data: '' }))];
    await expect(inspectChartArchive(await tgz(five), { maxEntries: 5 })).resolves.toMatchObject({
      name: 'demo',
    });
  });

  it('uses the defaults for limits that are not given', () => {
    expect(DEFAULT_INSPECTION_LIMITS).toMatchObject({
      maxDecompressedBytes: 100 * MiB,
      maxFileBytes: 5 * MiB,
      maxEntries: 10_000,
    });
    expect(resolveLimits({ maxEntries: 7, maxFileBytes: undefined })).toEqual({
      ...DEFAULT_INSPECTION_LIMITS,
      maxEntries: 7,
    });
    expect(() => resolveLimits({ maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('inspectChartArchive: rejected archives', () => {
  it.each([
    ['plain text', Buffer.from('apiVersion: v2\nname: demo\n')],
    ['an empty buffer', Buffer.alloc(0)],
    ['a zip file', Buffer.from('PK\u0003\u0004rest-of-zip')],
  ])('archive_not_gzip: %s', async (_label, archive) => {
    await rejects(archive, 'archive_not_gzip');
  });

  it('archive_not_gzip: an uncompressed tar', async () => {
    await rejects(tarBuffer(chartEntries('demo', { 'Chart.yaml': minimalChartYaml() })), 'archive_not_gzip');
  });

  it('archive_not_gzip: gzip magic followed by a broken gzip header', async () => {
    const archive = await chartTgz('demo', { 'Chart.yaml': minimalChartYaml() });
    await rejects(
      Buffer.concat([archive.subarray(0, 3), Buffer.from([0xe0]), archive.subarray(4)]),
      'archive_not_gzip',
    );
    await rejects(
      Buffer.concat([archive.subarray(0, 2), Buffer.from([0x07]), archive.subarray(3)]),
      'archive_not_gzip',
    );
    await rejects(archive.subarray(0, 6), 'archive_not_gzip');
  });

  it('archive_corrupt: deflate data that does not inflate', async () => {
    const archive = await chartTgz('demo', { 'Chart.yaml': minimalChartYaml() });
    const broken = Buffer.from(archive);
    broken.fill(0xff, 10, 30);
    await rejects(broken, 'archive_corrupt');
  });

  it('archive_corrupt: a truncated gzip stream', async () => {
    const archive = await chartTgz('demo', {
      'Chart.yaml': minimalChartYaml(),
      'values.yaml': 'x'.repeat(5000),
    });
    await rejects(archive.subarray(0, Math.floor(archive.length / 2)), 'archive_corrupt');
  });

  it('archive_corrupt: a tar stream cut in the middle of a file', async () => {
    const tar = await tarBuffer([CHART, { name: 'demo/values.yaml', data: 'x'.repeat(5000) }]);
    await rejects(zlib.gzipSync(tar.subarray(0, 1536)), 'archive_corrupt');
  });

  it('archive_corrupt: a tar header with a wrong checksum', async () => {
    const tar = await tarBuffer([CHART]);
    tar[0] ^= 0x01; // the first header's name no longer matches its checksum
    await rejects(zlib.gzipSync(tar), 'archive_corrupt');
  });

  it('archive_corrupt: gzipped bytes that are not a tar archive', async () => {
    await rejects(zlib.gzipSync(Buffer.from('x'.repeat(2048))), 'archive_corrupt');
  });

  it('archive_corrupt: garbage after the gzip stream', async () => {
    const archive = await chartTgz('demo', { 'Chart.yaml': minimalChartYaml() });
    await rejects(Buffer.concat([archive, Buffer.from('trailing garbage')]), 'archive_corrupt');
  });

  it.each([
    ['an empty tar', () => tgz([])],
    ['a gzip of nothing', async () => zlib.gzipSync(Buffer.alloc(0))],
    [
      'only directories',
      () =>
        tgz([
          { name: 'demo/', type: 'directory' },
          { name: 'demo/templates/', type: 'directory' },
        ]),
    ],
  ])('archive_empty: %s', async (_label, make) => {
    await rejects(make(), 'archive_empty');
  });

  it.each([
    ['../x'],
    ['demo/../../x'],
    ['demo/templates/../../../etc/passwd'],
    ['/etc/x'],
    ['C:/x'],
    ['c:\\x'],
    ['demo\\templates\\x.yaml'],
    ['demo/C:/x'],
  ])('archive_path_unsafe: %s', async (name) => {
    await rejects(tgz([CHART, { name, data: 'x' }]), 'archive_path_unsafe', ErrorKind.Invalid, [name]);
  });

  it('archive_path_unsafe: a NUL byte in a pax path', async () => {
    await rejects(
      tgz([
        CHART,
        rawEntry('PaxHeader', 'x', paxRecords({ path: 'demo/a\0b' })),
        rawEntry('demo/placeholder', '0', 'x'),
      ]),
      'archive_path_unsafe',
    );
  });

  it.each([
    ['symlink', { name: 'demo/link', type: 'symlink', linkname: '/etc/passwd' }],
    ['hard link', { name: 'demo/hard', type: 'link', linkname: 'demo/Chart.yaml' }],
    ['character device', { name: 'demo/null', type: 'character-device' }],
    ['block device', { name: 'demo/sda', type: 'block-device' }],
    ['fifo', { name: 'demo/pipe', type: 'fifo' }],
    ['contiguous file', { name: 'demo/contig', type: 'contiguous-file' }],
  ] as Array<[string, TarPart]>)('archive_entry_type: %s', async (_label, entry) => {
    await rejects(tgz([CHART, entry]), 'archive_entry_type');
  });

  it('archive_entry_type: an unknown type flag', async () => {
    await rejects(tgz([CHART, rawEntry('demo/odd', 'Z', 'x')]), 'archive_entry_type');
  });

  it('archive_layout: Chart.yaml at the archive root', async () => {
    await rejects(tgz([{ name: 'Chart.yaml', data: minimalChartYaml() }]), 'archive_layout');
  });

  it('archive_layout: ./Chart.yaml at the archive root', async () => {
    await rejects(tgz([{ name: './Chart.yaml', data: minimalChartYaml() }]), 'archive_layout');
  });

  it('archive_layout: any file next to the top directory', async () => {
    await rejects(tgz([CHART, { name: 'README.md', data: 'x' }]), 'archive_layout');
  });

  it('archive_layout: two top-level directories', async () => {
    await rejects(
      tgz([CHART, { name: 'other/Chart.yaml', data: minimalChartYaml('other') }]),
      'archive_layout',
    );
    await rejects(tgz([CHART, { name: 'other/', type: 'directory' }]), 'archive_layout');
  });

  it.each([
    ['Chart.yaml twice', [CHART, CHART]],
    ['the same file with and without ./', [CHART, { name: './demo/Chart.yaml', data: minimalChartYaml() }]],
    [
      'the same file with an empty segment',
      [CHART, { name: 'demo/a', data: '1' }, { name: 'demo//a', data: '2' }],
    ],
    [
      'a file and a directory with the same path',
      [CHART, { name: 'demo/a', data: '1' }, { name: 'demo/a/', type: 'directory' }],
    ],
  ] as Array<[string, TarPart[]]>)('archive_duplicate_entry: %s', async (_label, parts) => {
    await rejects(tgz(parts), 'archive_duplicate_entry');
  });

  // The 101 MiB gzip bomb and the inflate-stops-early check live in archive-bomb.spec.ts.
  it('archive_too_large: files that together pass the limit', async () => {
    const parts = [CHART, ...[1, 2, 3].map((i) => ({ name: `demo/f${i}`, data: 'x'.repeat(30 * 1024) }))];
    await rejects(tgz(parts), 'archive_too_large', ErrorKind.TooLarge, [], {
      maxDecompressedBytes: 64 * 1024,
    });
  });

  it('archive_file_too_large: one file over 5 MiB', async () => {
    await rejects(
      tgz([CHART, { name: 'demo/big', zeros: 5 * MiB + 1 }]),
      'archive_file_too_large',
      ErrorKind.TooLarge,
    );
  });

  it('archive_too_many_entries: 10,001 entries', async () => {
    const parts = [CHART, ...Array.from({ length: 10_000 }, (_, i) => ({ name: `demo/f${i}`, data: '' }))];
    await rejects(tgz(parts), 'archive_too_many_entries', ErrorKind.TooLarge);
  });

  it('archive_too_many_entries: directories count as entries', async () => {
    const parts = [
      CHART,
      ...Array.from({ length: 5 }, (_, i) => ({ name: `demo/d${i}/`, type: 'directory' as const })),
    ];
    await rejects(tgz(parts), 'archive_too_many_entries', ErrorKind.TooLarge, [], { maxEntries: 5 });
  });

  it.each([
    ['no Chart.yaml at all', { 'values.yaml': 'a: 1\n' }],
    ['Chart.yaml only in a subdirectory', { 'charts/sub/Chart.yaml': minimalChartYaml('sub') }],
    ['a lowercase chart.yaml', { 'chart.yaml': minimalChartYaml() }],
  ])('chart_yaml_missing: %s', async (_label, files) => {
    await rejects(chartTgz('demo', files), 'chart_yaml_missing');
  });

  it('chart_yaml_invalid: a Chart.yaml over maxChartYamlBytes is refused before it is read', async () => {
    const big = `${minimalChartYaml()}# ${'x'.repeat(2048)}\n`;
    await rejects(chartTgz('demo', { 'Chart.yaml': big }), 'chart_yaml_invalid', ErrorKind.Invalid, [], {
      maxChartYamlBytes: 1024,
    });
  });

  it('passes Chart.yaml problems through with their own codes', async () => {
    await rejects(chartTgz('demo', { 'Chart.yaml': '- a\n- b\n' }), 'chart_yaml_invalid');
    await rejects(chartTgz('demo', { 'Chart.yaml': minimalChartYaml('Demo') }), 'chart_name_invalid');
    await rejects(
      chartTgz('demo', { 'Chart.yaml': minimalChartYaml('demo', 'v1.0.0') }),
      'chart_version_invalid',
    );
    await rejects(
      chartTgz('demo', { 'Chart.yaml': 'name: demo\nversion: 1.0.0\n' }),
      'chart_api_version_invalid',
    );
  });

  it('keeps serving after a hostile archive: the streams are torn down and nothing leaks', async () => {
    await rejects(tgz([CHART, { name: 'demo/link', type: 'symlink', linkname: '/' }]), 'archive_entry_type');
    await expect(
      inspectChartArchive(await chartTgz('demo', { 'Chart.yaml': minimalChartYaml() })),
    ).resolves.toBeDefined();
  });
});
