import { inspectChartArchive, parseChartYaml } from './index';
import { MAX_VALUES_SCHEMA_DEPTH } from './archive';
import { findUnstorable, storableText } from './storable';
import { chartTgz, minimalChartYaml } from './testing/archives';
import { expectDomainError } from './testing/expect-domain-error';

const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

describe('what the database can store', () => {
  it('finds NUL and unpaired surrogates in keys and strings at any depth, and accepts paired ones (emoji)', () => {
    expect(findUnstorable({ a: ['ok', { 'b\u{1F600}': 'caf\u00e9 \u{1F680}' }] }, 64)).toBeUndefined();
    expect(findUnstorable({ a: [{ b: 'x\u0000' }] }, 64)).toBe('character');
    expect(findUnstorable({ 'k\u0000': 1 }, 64)).toBe('character');
    expect(findUnstorable(['\ud800'], 64)).toBe('character');
    expect(findUnstorable(['x\udc00'], 64)).toBe('character');
    expect(findUnstorable('\udc00\ud800', 64)).toBe('character');
    expect(storableText('a\u0000b')).toBe('a\ufffdb');
  });

  it('counts nesting by containers and stops walking at the limit', () => {
    expect(findUnstorable(JSON.parse(nested(3)), 3)).toBeUndefined();
    expect(findUnstorable(JSON.parse(nested(4)), 3)).toBe('depth');
    expect(findUnstorable(JSON.parse(nested(200_000)), 64)).toBe('depth');
  });

  it('refuses NUL in Chart.yaml annotation keys, annotation values and dependency import-values', async () => {
    const base = minimalChartYaml();
    for (const extra of [
      'annotations:\n  "a\\0": x\n',
      'annotations:\n  a: "\\0"\n',
      'annotations:\n  a: "\\udfff"\n',
      'dependencies:\n  - name: sub\n    repository: file://sub\n    import-values:\n      - child: "x\\0"\n',
    ]) {
      await expectDomainError(() => parseChartYaml(base + extra), 'chart_yaml_invalid');
    }
    const importing =
      'dependencies:\n  - name: sub\n    repository: file://sub\n    import-values:\n      - child: x\n';
    expect(parseChartYaml(base + importing).metadata.dependencies?.[0]['import-values']).toEqual([
      { child: 'x' },
    ]);
    expect(parseChartYaml(`${base}annotations:\n  "\u{1F600}": "caf\u00e9"\n`).metadata.annotations).toEqual({
      '\u{1F600}': 'caf\u00e9',
    });
  });

  it('keeps a values.schema.json up to the depth limit and refuses one level more', async () => {
    const at = await inspectChartArchive(
      await chartTgz('demo', {
        'Chart.yaml': minimalChartYaml(),
        'values.schema.json': nested(MAX_VALUES_SCHEMA_DEPTH),
      }),
    );
    expect(at.valuesSchema).toBeDefined();
    await expectDomainError(
      inspectChartArchive(
        await chartTgz('demo', {
          'Chart.yaml': minimalChartYaml(),
          'values.schema.json': nested(MAX_VALUES_SCHEMA_DEPTH + 1),
        }),
      ),
      'values_schema_invalid',
    );
  });

  it('refuses a values.schema.json larger than maxValuesSchemaBytes before reading it', async () => {
    const archive = await chartTgz('demo', {
      'Chart.yaml': minimalChartYaml(),
      'values.schema.json': JSON.stringify({ description: 'x'.repeat(2000) }),
    });
    await expectDomainError(
      inspectChartArchive(archive, { maxValuesSchemaBytes: 1000 }),
      'values_schema_invalid',
    );
    expect((await inspectChartArchive(archive, { maxValuesSchemaBytes: 4000 })).valuesSchema).toBeDefined();
  });

  it('still drops a values.schema.json that is not JSON, as before', async () => {
    const archive = await chartTgz('demo', {
      'Chart.yaml': minimalChartYaml(),
      'values.schema.json': '{nope',
    });
    expect((await inspectChartArchive(archive)).valuesSchema).toBeUndefined();
  });
});
