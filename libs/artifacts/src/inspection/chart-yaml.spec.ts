import { isStrictSemver, isValidChartName, parseChartYaml } from './index';
import { expectDomainError } from './testing/expect-domain-error';

const chart = (fields: string) => `apiVersion: v2\n${fields}`;
const withName = (name: string) => chart(`name: ${name}\nversion: 1.0.0\n`);
const withVersion = (version: string) => chart(`name: demo\nversion: ${version}\n`);

describe('parseChartYaml', () => {
  it('returns the chart identity and Helm-shaped metadata', () => {
    const parsed = parseChartYaml(
      chart('name: demo\nversion: 1.2.3\nappVersion: "4.5"\ndescription: Demo\nx-unknown: dropped\n'),
    );
    expect(parsed).toEqual({
      name: 'demo',
      version: '1.2.3',
      appVersion: '4.5',
      apiVersion: 'v2',
      metadata: { name: 'demo', version: '1.2.3', appVersion: '4.5', description: 'Demo', apiVersion: 'v2' },
    });
  });

  it('accepts a Buffer, dropping a UTF-8 BOM', () => {
    expect(parseChartYaml(Buffer.from(`\ufeff${withName('demo')}`)).name).toBe('demo');
  });

  it('renders a numeric appVersion the way Helm does (1.10 becomes "1.1")', () => {
    expect(parseChartYaml(`${withName('demo')}appVersion: 1.10\n`).appVersion).toBe('1.1');
    expect(parseChartYaml(`${withName('demo')}appVersion: 2.0\n`).appVersion).toBe('2');
  });

  it('takes v1 dependencies from requirements.yaml', () => {
    const parsed = parseChartYaml('apiVersion: v1\nname: legacy\nversion: 0.1.0\n', {
      requirementsYaml: 'dependencies:\n  - name: redis\n    version: 10.x\n',
    });
    expect(parsed.metadata.dependencies).toEqual([{ name: 'redis', version: '10.x', repository: '' }]);
  });

  describe('chart_yaml_invalid', () => {
    it.each([
      ['a list', '- apiVersion: v2\n- name: demo\n'],
      ['a scalar', 'just a string\n'],
      ['an empty document', ''],
      ['a comment only', '# nothing\n'],
      ['broken YAML', 'apiVersion: v2\nname: [demo\n'],
      ['a tab-indented mapping', 'apiVersion: v2\n\tname: demo\n'],
      ['duplicate keys', `${withName('demo')}name: other\n`],
      ['duplicate keys spelled differently', `${withName('demo')}x: 1\n"x": 2\n`],
      ['duplicate int keys (1 and 0x1)', `${withName('demo')}x: {1: a, 0x1: b}\n`],
      ['two documents', `${withName('demo')}---\n${withName('demo')}`],
      ['a wrongly typed field', `${withName('demo')}maintainers: yes\n`],
    ])('%s', async (_label, text) => {
      await expectDomainError(() => parseChartYaml(text), 'chart_yaml_invalid');
    });

    it('an alias bomb (billion laughs) is refused quickly', async () => {
      const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < 9; i++) {
        const prev = String.fromCharCode(96 + i);
        const cur = String.fromCharCode(97 + i);
        levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
      }
      await expectDomainError(
        () => parseChartYaml(`${withName('demo')}${levels.join('\n')}\n`),
        'chart_yaml_invalid',
      );
    });

    it('more than 100 aliases are refused even when each is small', async () => {
      const aliases = Array.from({ length: 101 }, (_, i) => `k${i}: *x`).join('\n');
      await expectDomainError(
        () => parseChartYaml(`${withName('demo')}x-a: &x 1\n${aliases}\n`),
        'chart_yaml_invalid',
      );
    });

    it('deep nesting is refused', async () => {
      const deep = `${withName('demo')}x: ${'['.repeat(200)}${']'.repeat(200)}\n`;
      await expectDomainError(() => parseChartYaml(deep), 'chart_yaml_invalid');
    });

    it('a flat document with too many tokens is refused before it is parsed', async () => {
      const keys = Array.from({ length: 60_000 }, (_, i) => `k${i}: v`).join('\n');
      await expectDomainError(() => parseChartYaml(`${withName('demo')}${keys}\n`), 'chart_yaml_invalid');
    });

    it('a megabyte of nested flow collections is refused before it is parsed', async () => {
      const deep = `${withName('demo')}x: ${'['.repeat(1024 * 1024 - 100)}`;
      await expectDomainError(
        () => parseChartYaml(deep, { maxBytes: 2 * 1024 * 1024 }),
        'chart_yaml_invalid',
      );
      const hidden = `${withName('demo')}x: ${'[ "]" '.repeat(1000)}`; // quoted brackets do not hide depth
      await expectDomainError(() => parseChartYaml(hidden), 'chart_yaml_invalid');
    });

    it('brackets inside quoted and block scalars are text, not nesting', () => {
      const text = `${withName('demo')}description: "${'['.repeat(500)}"\nhome: |\n  ${'{'.repeat(500)}\n`;
      expect(parseChartYaml(text).metadata.description).toBe('['.repeat(500));
    });

    it('a document over the size limit is refused', async () => {
      await expectDomainError(
        () => parseChartYaml(`${withName('demo')}# ${'x'.repeat(2000)}\n`, { maxBytes: 1024 }),
        'chart_yaml_invalid',
      );
    });

    it('invalid UTF-8 is refused', async () => {
      const bytes = Buffer.concat([
        Buffer.from(withName('demo')),
        Buffer.from('description: '),
        Buffer.from([0xc3, 0x28]),
      ]);
      await expectDomainError(() => parseChartYaml(bytes), 'chart_yaml_invalid');
    });

    it('messages name the field, never a value or key from the document', async () => {
      const e = await expectDomainError(
        () => parseChartYaml(`${withName('demo')}maintainers:\n  - name: [<script>alert(1)</script>]\n`),
        'chart_yaml_invalid',
        undefined,
        ['<script>'],
      );
      expect(e.message).toBe('Chart.yaml maintainers[0].name must be a string.');
      await expectDomainError(
        () => parseChartYaml(`${withName('demo')}annotations: {"<evil-key>": [1]}\n`),
        'chart_yaml_invalid',
        undefined,
        ['<evil-key>'],
      );
    });
  });

  describe('chart_api_version_invalid', () => {
    it.each([
      ['missing', 'name: demo\nversion: 1.0.0\n'],
      ['empty', 'apiVersion: ""\nname: demo\nversion: 1.0.0\n'],
      ['v3', 'apiVersion: v3\nname: demo\nversion: 1.0.0\n'],
      ['a number', 'apiVersion: 2\nname: demo\nversion: 1.0.0\n'],
    ])('%s', async (_label, text) => {
      await expectDomainError(() => parseChartYaml(text), 'chart_api_version_invalid');
    });

    it('accepts v1 and v2', () => {
      expect(parseChartYaml('apiVersion: v1\nname: demo\nversion: 1.0.0\n').apiVersion).toBe('v1');
      expect(parseChartYaml(withName('demo')).apiVersion).toBe('v2');
    });
  });

  describe('chart_name_invalid', () => {
    it.each([
      ['missing', chart('version: 1.0.0\n')],
      ['empty', withName('""')],
      ['uppercase', withName('Demo')],
      ['64 characters', withName('a'.repeat(64))],
      ['"."', withName('"."')],
      ['".."', withName('".."')],
      ['a/b', withName('a/b')],
      ['a leading dash', withName('"-demo"')],
      ['a trailing dash', withName('demo-')],
      ['an underscore', withName('my_chart')],
      ['a dot', withName('my.chart')],
      ['a space', withName('"my chart"')],
      ['a zero-width space', withName('"de\\u200bmo"')],
    ])('%s', async (_label, text) => {
      await expectDomainError(() => parseChartYaml(text), 'chart_name_invalid', undefined, [
        'Demo',
        'my_chart',
      ]);
    });

    it('accepts DNS-1123 labels up to 63 characters', () => {
      for (const name of ['a', 'demo', 'kube-prometheus-stack', '0x', 'a'.repeat(63)]) {
        expect(parseChartYaml(withName(name)).name).toBe(name);
      }
      expect(parseChartYaml(withName('123')).name).toBe('123'); // a YAML int, read as Helm reads it
      expect(isValidChartName('a-b')).toBe(true);
    });
  });

  describe('chart_version_invalid', () => {
    it.each([
      ['missing', chart('name: demo\n')],
      ['v1.0.0', withVersion('v1.0.0')],
      ['1.0 (a YAML float)', withVersion('1.0')],
      ['"1.0" (a string)', withVersion('"1.0"')],
      ['1 (a YAML int)', withVersion('1')],
      ['01.0.0', withVersion('01.0.0')],
      ['1.00.0', withVersion('1.00.0')],
      ['1.0.0.0', withVersion('1.0.0.0')],
      ['1.0.0-01 (leading zero in a numeric pre-release)', withVersion('1.0.0-01')],
      ['1.0.0+ (empty build)', withVersion('1.0.0+')],
      ['" 1.0.0" (padded)', withVersion('" 1.0.0"')],
      ['a number over uint64', withVersion('18446744073709551616.0.0')],
      ['a list', withVersion('[1, 0, 0]')],
    ])('%s', async (_label, text) => {
      await expectDomainError(() => parseChartYaml(text), 'chart_version_invalid');
    });

    it('accepts strict SemVer 2', () => {
      for (const v of [
        '0.0.0',
        '1.2.3',
        '10.20.30',
        '1.0.0-alpha.1',
        '1.0.0-0.3.7',
        '1.0.0+build.5',
        '1.0.0-rc.1+sha.abc',
      ]) {
        expect(parseChartYaml(withVersion(v)).version).toBe(v);
      }
      expect(isStrictSemver('18446744073709551615.0.0')).toBe(true);
    });
  });
});
