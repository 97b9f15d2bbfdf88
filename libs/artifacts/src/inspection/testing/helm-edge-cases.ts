/**
 * Hand-made charts whose `helm repo index` entries are recorded in `__fixtures__/helm-edge-cases.json` by
 * `generate-helm-fixtures.ts`. `store` says what the inspector must do: `accept` (and produce exactly Helm's
 * metadata) or the error code it must throw — either because Helm refuses the chart too, or because the store is
 * deliberately stricter than Helm (strict SemVer, DNS names, required apiVersion, no duplicate keys).
 */
export interface HelmEdgeCase {
  id: string;
  /** Files under the chart's top directory. */
  files: Record<string, string>;
  store: 'accept' | string;
}

const head = (name: string, extra = '') => `apiVersion: v2\nname: ${name}\nversion: 1.0.0\n${extra}`;

// YAML 1.1 scalars as yaml.v2 resolves them, then as sigs.k8s.io/yaml turns them into strings.
const SCALARS = [
  '1.10',
  '2.0',
  '1e3',
  '1E+3',
  '0x1F',
  '0X1f',
  '0o17',
  '0755',
  '08',
  '09.5',
  '0b101',
  '-0b11',
  '+12',
  '-0',
  '1_000',
  '1__0.5',
  '12345678.9',
  '123456789',
  '1234567890123',
  '9223372036854775807',
  '9223372036854775808',
  '18446744073709551615',
  '18446744073709551616',
  '-9223372036854775808',
  '-9223372036854775809',
  '.5',
  '-.5',
  '+.5',
  '.5e3',
  '.1_0',
  '1.',
  '1.e2',
  '1e400',
  '1e-400',
  '1e-7',
  '0.0001',
  '0.00001',
  '100000',
  '1000000',
  '3.4028235e38',
  '3.5e38',
  '16777217',
  '0.1',
  '0.3',
  '1.1e-45',
  '6.02214076e23',
  '-1.5e-10',
  '.inf',
  '-.inf',
  '+.inf',
  '.nan',
  '.NaN',
  '.Inf',
  'yes',
  'Yes',
  'YES',
  'no',
  'on',
  'off',
  'y',
  'n',
  'Y',
  'N',
  'true',
  'False',
  '~',
  'null',
  'Null',
  'NULL',
  "''",
  '"1.0"',
  '!!str 1.0',
  '!!float 1',
  '!!int "12"',
  '!!bool yes',
  '! 12',
  '!foo 13',
  '2020-01-01',
  '2020-01-01T10:00:00Z',
  '1:30',
  '0x',
  '0b',
  '0o',
  '0xG',
  '.',
  'yEs',
  'nULL',
  '"\\u00e9"',
  '"a\\tb"',
  '"zero\\u200bwidth"',
  '"nbsp\\u00a0x"',
  '"bell\\a"',
  '"line\\u2028sep"',
  '"nel\\u0085x"',
  '"soft\\u00adhyphen"',
  '"bom\\ufeffin"',
  '"emoji \\U0001F389"',
  '"cr\\r\\nlf"',
  '._1',
  '.1_e5',
  '.1e_5',
  '.1e5_0',
  '.1__0',
  '1_e5',
  '0x_1F',
  '0_7',
  '+0x10',
  '-0o7',
  '0B11',
  '0O7',
];

/** Deterministic pseudo-random decimal numbers over float32's whole range (and beyond), as plain scalars. */
function randomFloats(count: number): string[] {
  let seed = 20240601;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: count }, () => {
    const digits = String(Math.floor(next() * 1e17)).slice(0, 1 + Math.floor(next() * 17));
    const exp = Math.floor(next() * 100) - 50;
    const sign = next() < 0.2 ? '-' : '';
    const kind = next();
    if (kind < 0.3) return `${sign}${digits}e${exp}`;
    if (kind < 0.6) return `${sign}${digits.slice(0, 3)}.${digits.slice(3) || '0'}`;
    // An exact binary fraction n / 2^k written out in full: the ties of shortest-digit rounding live here.
    const k = Math.floor(next() * 31);
    return `${sign}${(Math.floor(next() * 2 ** 24) / 2 ** k).toFixed(k)}`;
  });
}

export const HELM_EDGE_CASES: HelmEdgeCase[] = [
  {
    id: 'yaml11-scalars-into-strings',
    store: 'accept',
    files: {
      'Chart.yaml': [
        head('edge-scalars'),
        'appVersion: 1.10',
        'description: 2.0',
        'home: 0x1F',
        'icon: 0755',
        'condition: yes',
        'tags: 1_000',
        'kubeVersion: 12345678.9',
        'keywords:',
        ...SCALARS.map((s) => `  - ${s}`),
        'sources: [1.0, .nan, -.inf, off, 0b11]',
        '',
      ].join('\n'),
    },
  },
  {
    id: 'random-floats-into-strings',
    store: 'accept',
    files: {
      'Chart.yaml': [head('edge-floats'), 'keywords:', ...randomFloats(1000).map((f) => `  - ${f}`), ''].join(
        '\n',
      ),
    },
  },
  {
    id: 'go-json-field-matching-and-types',
    store: 'accept',
    files: {
      'Chart.yaml': `apiVersion: v2
Name: edge-go-json
VERSION: 1.0.0
\u017fources: [https://long-s.example]
\u212aeywords: [kelvin]
appversion: "3.0"
unknownKey: {nested: [1, 2, {x: y}], n: 1.5}
x-custom: .5
deprecated: yes
description: |
  Multi-line
  \ttext with\ta tab
annotations:
  1: one
  on: two
  2.5: three
  c: 3
  d: ~
  e: 1.50
  f: false
  category: Monitoring
maintainers:
  - name: 42
    email: a@b.c
    url: https://x.example
    extra: ignored
  - email: only@mail.example
  - {}
dependencies:
  - name: dep-a
    version: ">=1.0.0"
    repository: https://example.com/charts
    condition: a.enabled
    tags: [t1, 2]
    enabled: true
    import-values: [data, {child: c, parent: p}, 1, 2.5, true, ~, {n: 1e3, "k": [1, x]}]
    alias: dep_alias-1
  - name: dep-b
  - name: dep-c
    enabled: false
    tags: []
    import-values: []
type: library
kubeVersion: ">=1.20.0-0"
icon: https://example.com/icon.png
`,
    },
  },
  {
    id: 'merge-keys-and-aliases',
    store: 'accept',
    files: {
      'Chart.yaml': `x-base: &base
  description: from base
  home: https://base.example
x-more: &more
  home: https://more.example
  icon: https://icon.example
apiVersion: v2
name: edge-merge
version: 1.0.0
home: https://explicit-before-merge.example
<<: [*base, *more]
appVersion: explicit-after-merge
keywords: &kw [a, b]
sources: *kw
maintainers:
  - &m {name: alice, email: alice@example.com}
  - <<: *m
    name: bob
`,
    },
  },
  {
    id: 'v1-requirements-yaml',
    store: 'accept',
    files: {
      'Chart.yaml':
        'apiVersion: v1\nname: edge-v1\nversion: 0.1.0\nappVersion: "1.0"\ndescription: v1 chart\n',
      'requirements.yaml': `dependencies:
  - name: redis
    version: ~10.5.7
    repository: "@stable"
    condition: redis.enabled
    import-values:
      - child: default.data
        parent: myimports
  - name: postgresql
    version: 8.x.x
    repository: https://charts.example.com
    alias: db
`,
    },
  },
  {
    id: 'v2-requirements-overlay',
    store: 'accept',
    files: {
      'Chart.yaml': `apiVersion: v2
name: edge-overlay
version: 1.0.0
description: from Chart.yaml
keywords: [k1, k2, k3]
annotations: {a: "1"}
dependencies:
  - name: a
    version: 1.0.0
    repository: https://r.example
    condition: c
    tags: [x, y]
  - name: b
    repository: https://r2.example
`,
      'requirements.yaml': `dependencies:
  - name: z
    tags: [q]
keywords: [~]
annotations: {b: 2}
description: from requirements.yaml
`,
    },
  },
  {
    id: 'bom-crlf-and-sanitising',
    store: 'accept',
    files: {
      'Chart.yaml':
        '\ufeffapiVersion: v2\r\nname: edge-bom\r\nversion: 1.0.0-rc.1+build.5\r\n' +
        'description: "tabs\\tand\\nnewlines,\\u200bzero width, \\u00a0nbsp "\r\n' +
        'home: " https://spaced.example "\r\nmaintainers:\r\n  - name: "a\\u0007b"\r\n',
    },
  },
  {
    id: 'empty-values-are-omitted',
    store: 'accept',
    files: {
      'Chart.yaml': `apiVersion: v2
name: edge-empty
version: 1.0.0
keywords: []
sources: [~, '']
maintainers: []
annotations: {}
home: ""
icon: ~
deprecated: false
dependencies: []
appVersion: ''
type: ''
description:
`,
    },
  },
  {
    id: 'empty-requirements-yaml',
    store: 'accept',
    files: {
      'Chart.yaml': 'apiVersion: v1\nname: edge-empty-req\nversion: 1.0.0\n',
      'requirements.yaml': '# nothing here\n',
    },
  },

  // Refused by Helm too.
  {
    id: 'home-is-a-list',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r1', 'home: [a]\n') },
  },
  {
    id: 'deprecated-is-a-string',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r2', 'deprecated: "true"\n') },
  },
  {
    id: 'maintainer-null',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r3', 'maintainers: [~]\n') },
  },
  {
    id: 'dependency-null',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r4', 'dependencies: [~]\n') },
  },
  {
    id: 'nan-under-unknown-key',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r5', 'x: .nan\n') },
  },
  {
    id: 'bad-dependency-alias',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r6', 'dependencies: [{name: a, alias: "bad alias"}]\n') },
  },
  {
    id: 'duplicate-dependency',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r7', 'dependencies: [{name: a}, {name: b, alias: a}]\n') },
  },
  {
    id: 'unknown-type',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r8', 'type: operator\n') },
  },
  {
    id: 'annotation-value-is-a-list',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r9', 'annotations: {a: [1]}\n') },
  },
  { id: 'null-map-key', store: 'chart_yaml_invalid', files: { 'Chart.yaml': head('edge-r10', '~: x\n') } },
  {
    id: 'tags-is-a-list',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r11', 'tags: [a]\n') },
  },
  {
    id: 'chart-yaml-is-a-list',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': '- apiVersion: v2\n- name: x\n' },
  },
  {
    id: 'control-character',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r12', 'description: bell\u0007\n') },
  },
  {
    id: 'merge-of-a-scalar',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r13', '<<: 1\n') },
  },
  {
    id: 'self-referencing-anchor',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-r14', 'x: &a [*a]\n') },
  },
  {
    id: 'name-dot',
    store: 'chart_name_invalid',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: "."\nversion: 1.0.0\n' },
  },
  {
    id: 'version-number-overflows-uint64',
    store: 'chart_version_invalid',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: edge-r15\nversion: 99999999999999999999.0.0\n' },
  },
  {
    id: 'requirements-not-a-mapping',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': 'apiVersion: v1\nname: edge-r16\nversion: 1.0.0\n', 'requirements.yaml': '- a\n' },
  },

  // Accepted by Helm, refused by the store on purpose.
  {
    id: 'version-float',
    store: 'chart_version_invalid',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: edge-s1\nversion: 1.0\n' },
  },
  {
    id: 'version-v-prefix',
    store: 'chart_version_invalid',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: edge-s2\nversion: v1.0.0\n' },
  },
  {
    id: 'version-leading-zero',
    store: 'chart_version_invalid',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: edge-s3\nversion: 01.0.0\n' },
  },
  {
    id: 'name-uppercase',
    store: 'chart_name_invalid',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: Edge-S4\nversion: 1.0.0\n' },
  },
  {
    id: 'api-version-missing',
    store: 'chart_api_version_invalid',
    files: { 'Chart.yaml': 'name: edge-s5\nversion: 1.0.0\n' },
  },
  {
    id: 'api-version-v3',
    store: 'chart_api_version_invalid',
    files: { 'Chart.yaml': 'apiVersion: v3\nname: edge-s6\nversion: 1.0.0\n' },
  },
  {
    id: 'duplicate-key',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-s7', 'description: one\ndescription: two\n') },
  },
  {
    id: 'case-variant-keys',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': head('edge-s8', 'Description: one\ndescription: two\n') },
  },
  {
    id: 'several-documents',
    store: 'chart_yaml_invalid',
    files: { 'Chart.yaml': `${head('edge-s9')}---\nname: other\n` },
  },
];
