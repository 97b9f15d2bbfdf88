/**
 * The inspector's metadata must equal what the real `helm repo index` writes for the same archive (minus urls,
 * created, digest). The expected data is committed under __fixtures__ and was produced by
 * `testing/generate-helm-fixtures.ts` with Helm v3.21.4, so this suite needs no helm binary. Values are
 * compared after a JSON round trip (key order is irrelevant, as it is for Go's JSON).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspectChartArchive } from './index';
import { chartTgz } from './testing/archives';
import { expectDomainError } from './testing/expect-domain-error';
import type { HelmEdgeCase } from './testing/helm-edge-cases';
import helmIndex from './__fixtures__/helm-index-entries.json';
import edgeCases from './__fixtures__/helm-edge-cases.json';

const FIXTURES =
  process.env.BERTH_CHART_FIXTURES ??
  resolve(__dirname, '../../../../..', 'shared', 'fixtures', 'charts', 'prometheus-community');
const entries = helmIndex.entries as Record<string, Record<string, unknown> | null>;
const cases = edgeCases.cases as Array<HelmEdgeCase & { helm: Record<string, unknown> | null }>;
const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('parity with helm repo index: the shared prometheus-community charts', () => {
  const files = Object.keys(entries);

  it('covers the 44 fixtures, which are all present', () => {
    expect(files).toHaveLength(44);
    expect(existsSync(FIXTURES)).toBe(true);
  });

  it.each(files)('%s', async (file) => {
    const chart = await inspectChartArchive(readFileSync(join(FIXTURES, file)));
    const helm = entries[file];
    expect(helm).not.toBeNull();
    expect(roundTrip(chart.metadata)).toEqual(helm);
    expect(chart).toMatchObject({ name: helm?.name, version: helm?.version, apiVersion: helm?.apiVersion });
    expect(chart.appVersion).toBe(helm?.appVersion);
    expect(`${chart.name}-${chart.version}.tgz`).toBe(file);
    expect(chart.topDirectory).toBe(chart.name);
    expect(chart.readme?.length).toBeGreaterThan(0);
  });

  it('parses values.schema.json where a chart has one', async () => {
    const chart = await inspectChartArchive(readFileSync(join(FIXTURES, 'prometheus-29.27.0.tgz')));
    expect(chart.valuesSchema).toMatchObject({ $schema: expect.any(String) });
  });
});

describe('parity with helm repo index: hand-made edge cases', () => {
  const accepted = cases.filter((c) => c.store === 'accept');
  const refused = cases.filter((c) => c.store !== 'accept');

  it.each(accepted.map((c) => [c.id, c] as const))('%s: same metadata as Helm', async (_id, c) => {
    expect(c.helm).not.toBeNull();
    const chart = await inspectChartArchive(await chartTgz('chart', c.files));
    expect(roundTrip(chart.metadata)).toEqual(c.helm);
  });

  it.each(refused.map((c) => [c.id, c] as const))('%s: refused', async (_id, c) => {
    await expectDomainError(inspectChartArchive(await chartTgz('chart', c.files)), c.store);
  });

  it('records where the store is stricter than Helm', () => {
    const stricter = refused.filter((c) => c.helm !== null).map((c) => c.id);
    expect(stricter.sort()).toEqual(
      [
        'api-version-missing',
        'api-version-v3',
        'case-variant-keys',
        'duplicate-key',
        'name-uppercase',
        'several-documents',
        'version-float',
        'version-leading-zero',
        'version-v-prefix',
      ].sort(),
    );
  });
});
