/**
 * Regenerates the Helm reference data the inspector's unit tests compare against, with the real Helm v3 CLI:
 *
 *   bash scripts/install-tools.sh helm3
 *   npx ts-node --transpile-only libs/artifacts/src/inspection/testing/generate-helm-fixtures.ts
 *
 * 1. `__fixtures__/helm-index-entries.json`: `helm repo index --json` over copies of the 44 shared fixtures
 *    (/work/shared/fixtures/charts/prometheus-community, or $BERTH_CHART_FIXTURES), each entry keyed by its file
 *    name, minus `urls`, `created` and `digest`.
 * 2. `__fixtures__/helm-edge-cases.json`: every case of `helm-edge-cases.ts` packed with tar-stream + zlib and
 *    indexed by the same command; `helm` is Helm's entry (same fields removed) or null when Helm skipped the
 *    archive because its loader refused it.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chartTgz } from './archives';
import { HELM_EDGE_CASES } from './helm-edge-cases';

const root = resolve(__dirname, '../../../../..');
const fixturesOut = resolve(__dirname, '../__fixtures__');
const charts =
  process.env.BERTH_CHART_FIXTURES ??
  resolve(root, '..', 'shared', 'fixtures', 'charts', 'prometheus-community');
const helm = process.env.HELM3 ?? join(root, '.tools/bin/helm3');

type Entry = Record<string, unknown> & { urls: string[] };

function indexDir(dir: string): Map<string, Record<string, unknown>> {
  execFileSync(helm, ['repo', 'index', dir, '--json'], { stdio: 'inherit' });
  const index = JSON.parse(readFileSync(join(dir, 'index.yaml'), 'utf8')) as {
    entries: Record<string, Entry[]>;
  };
  const byFile = new Map<string, Record<string, unknown>>();
  for (const list of Object.values(index.entries)) {
    for (const { urls, created: _c, digest: _d, ...metadata } of list) byFile.set(urls[0], metadata);
  }
  return byFile;
}

function helmVersion(): string {
  return execFileSync(helm, ['version', '--short']).toString().trim();
}

async function main(): Promise<void> {
  try {
    execFileSync(helm, ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`helm3 not found at ${helm}: run \`bash scripts/install-tools.sh helm3\` or set HELM3`);
  }
  const version = helmVersion();
  const generatedBy =
    'libs/artifacts/src/inspection/testing/generate-helm-fixtures.ts (helm repo index --json; urls, created, digest removed)';

  const work = mkdtempSync(join(tmpdir(), 'berth-helm-fixtures-'));
  try {
    const fixtureDir = join(work, 'fixtures');
    execFileSync('mkdir', ['-p', fixtureDir]);
    const files = readdirSync(charts)
      .filter((f) => f.endsWith('.tgz'))
      .sort();
    for (const f of files) copyFileSync(join(charts, f), join(fixtureDir, f));
    const indexed = indexDir(fixtureDir);
    const entries = Object.fromEntries(files.map((f) => [f, indexed.get(f) ?? null]));
    writeFileSync(
      join(fixturesOut, 'helm-index-entries.json'),
      `${JSON.stringify({ generatedBy, helm: version, entries }, null, 2)}\n`,
    );

    const edgeDir = join(work, 'edge');
    execFileSync('mkdir', ['-p', edgeDir]);
    for (const c of HELM_EDGE_CASES)
      writeFileSync(join(edgeDir, `${c.id}.tgz`), await chartTgz('chart', c.files));
    const edge = indexDir(edgeDir);
    const cases = HELM_EDGE_CASES.map((c) => ({ ...c, helm: edge.get(`${c.id}.tgz`) ?? null }));
    writeFileSync(
      join(fixturesOut, 'helm-edge-cases.json'),
      `${JSON.stringify({ generatedBy, helm: version, cases }, null, 2)}\n`,
    );
    // Keep the files as the repository's Prettier would format them, so reruns and `prettier --check` agree.
    execFileSync(
      join(root, 'node_modules/.bin/prettier'),
      ['--write', join(fixturesOut, 'helm-index-entries.json'), join(fixturesOut, 'helm-edge-cases.json')],
      { stdio: 'ignore' },
    );
    console.log(`wrote ${files.length} fixture entries and ${cases.length} edge cases (${version})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
