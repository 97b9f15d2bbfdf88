import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

/** `shared/` sits beside the repository (in CI too); BERTH_CHART_FIXTURES overrides. */
export const FIXTURES_DIR =
  process.env.BERTH_CHART_FIXTURES ??
  resolve(__dirname, '..', '..', '..', 'shared', 'fixtures', 'charts', 'prometheus-community');

/** The 44 real charts of shared/fixtures, as file name and bytes. */
export function fixtureCharts(): Array<{ file: string; bytes: Buffer }> {
  const files = readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.tgz'))
    .sort();
  if (files.length === 0) throw new Error(`no chart fixtures under ${FIXTURES_DIR}`);
  return files.map((file) => ({ file, bytes: readFileSync(join(FIXTURES_DIR, file)) }));
}

export interface TarEntry {
  name: string;
  content?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  linkname?: string;
  size?: number;
}

/** A gzip'd tar of the given entries, made in memory: malformed on purpose when asked. */
export async function tarGz(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((res, rej) => {
    pack.on('end', () => res());
    pack.on('error', rej);
  });
  for (const e of entries) {
    const body =
      e.content === undefined ? undefined : Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
    await new Promise<void>((res, rej) =>
      pack.entry(
        {
          name: e.name,
          type: e.type ?? 'file',
          linkname: e.linkname,
          size: body?.length ?? 0,
          mode: 0o644,
          mtime: new Date(0),
        },
        body ?? '',
        (err) => (err ? rej(err) : res()),
      ),
    );
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** A small valid chart (Chart.yaml, values, one template); `extra` replaces Chart.yaml or values.yaml, or adds a file. */
export function simpleChart(
  name: string,
  version: string,
  extra: Partial<Record<string, string>> = {},
): Promise<Buffer> {
  const chartYaml =
    extra['Chart.yaml'] ??
    `apiVersion: v2\nname: ${name}\nversion: ${version}\nappVersion: "1.0"\ndescription: A test chart called ${name}\ntype: application\n`;
  return tarGz([
    { name: `${name}/Chart.yaml`, content: chartYaml },
    { name: `${name}/values.yaml`, content: extra['values.yaml'] ?? 'replicas: 1\n' },
    {
      name: `${name}/templates/configmap.yaml`,
      content:
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  replicas: "{{ .Values.replicas }}"\n',
    },
    { name: `${name}/README.md`, content: `# ${name}\n` },
    // Any other file the caller names (`templates/job.yaml`), under the chart's directory.
    ...Object.entries(extra)
      .filter(([path]) => path !== 'Chart.yaml' && path !== 'values.yaml')
      .map(([path, content]) => ({ name: `${name}/${path}`, content: content ?? '' })),
  ]);
}

/** A clear-signed provenance body as `helm package --sign` writes it, naming `archive` (the store checks the digest, never the signature). */
export const provFor = (name: string, version: string, archive: Buffer) =>
  Buffer.from(
    `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v2\nname: ${name}\nversion: ${version}\n\n...\nfiles:\n  ${name}-${version}.tgz: sha256:${createHash('sha256').update(archive).digest('hex')}\n-----BEGIN PGP SIGNATURE-----\n\nwsBcBAEBCgAQBQJ=\n-----END PGP SIGNATURE-----\n`,
  );

/** A README with everything a hostile publisher might try; none of it may become markup or script. */
export const HOSTILE_README = [
  '# Evil',
  '<script>window.pwned = 1</script>',
  '<img src=x onerror="window.pwned = 2">',
  '<svg onload="window.pwned = 3"><circle r="1"/></svg>',
  '[click](javascript:window.pwned=4) [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[tab](java\tscript:alert(1)) [ok](https://example.com/docs)',
  '![pixel](http://tracker.example/p.png) ![logo](https://cdn.example/logo.png)',
  '<a href="javascript:alert(1)">raw link</a>',
  `${'> '.repeat(200)}deep`,
  `${'- '.repeat(200)}deep list`,
].join('\n\n');
