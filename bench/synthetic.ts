import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tarGz } from '../test/support/charts';

/** One generated archive on disk; its bytes are read only when it is uploaded or copied. */
export interface ChartFile {
  name: string;
  version: string;
  /** Absolute path of `<name>-<version>.tgz`. */
  path: string;
}

export interface SyntheticStore {
  /** The free repository (publisher `bench`), the one compared with ChartMuseum. */
  bench: ChartFile[];
  /** The paid charts (publisher `vendor`). */
  vendor: ChartFile[];
  benchCharts: string[];
  vendorCharts: string[];
  totalVersions: number;
}

/** FNV-1a, so that every chart's content depends on its name and version only, not on generation order. */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: tiny, seedable and good enough to vary text. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const WORDS = (
  'cache queue proxy gateway metrics ledger search stream vault mesh broker index graph ' +
  'storage backup scheduler router auth tracing logging billing catalog notify render ' +
  'worker cluster replica shard session portal console agent exporter collector'
).split(' ');

/** Versions spread over minors (1.0.0 … 1.0.9, 1.1.0 …), as real charts release. */
export function versionAt(i: number): string {
  return `1.${Math.floor(i / 10)}.${i % 10}`;
}

export function chartName(prefix: string, n: number, width: number): string {
  return `${prefix}-${String(n).padStart(width, '0')}`;
}

function words(rand: () => number, n: number): string[] {
  return Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]);
}

function hex(rand: () => number, n: number): string {
  let s = '';
  while (s.length < n)
    s += Math.floor(rand() * 0xffffffff)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, n);
}

function chartYaml(name: string, version: string, rand: () => number): string {
  const kw = [...new Set(words(rand, 4))];
  return [
    'apiVersion: v2',
    `name: ${name}`,
    `version: ${version}`,
    `appVersion: "${2 + Math.floor(rand() * 3)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 10)}"`,
    `description: A ${words(rand, 3).join(' ')} service for Kubernetes, packaged as ${name}`,
    'type: application',
    'keywords:',
    ...kw.map((k) => `  - ${k}`),
    `home: https://example.com/helm/${name}`,
    'sources:',
    `  - https://github.com/example/${name}`,
    'maintainers:',
    `  - name: ${words(rand, 1)[0]}-team`,
    `    email: ${name}@example.com`,
    '',
  ].join('\n');
}

function valuesYaml(name: string, rand: () => number): string {
  const env = Array.from(
    { length: 24 + Math.floor(rand() * 24) },
    (_, i) => `    - name: ${words(rand, 1)[0].toUpperCase()}_${i}\n      value: "${hex(rand, 24)}"`,
  );
  return `replicaCount: ${1 + Math.floor(rand() * 3)}
image:
  repository: registry.example.com/${name}
  tag: "sha-${hex(rand, 12)}"
  pullPolicy: IfNotPresent
service:
  type: ClusterIP
  port: ${8000 + Math.floor(rand() * 1000)}
resources:
  limits: { cpu: ${100 + Math.floor(rand() * 900)}m, memory: ${64 * (1 + Math.floor(rand() * 8))}Mi }
  requests: { cpu: 50m, memory: 64Mi }
podAnnotations: {}
nodeSelector: {}
tolerations: []
affinity: {}
config:
  env:
${env.join('\n')}
`;
}

const HELPERS = `{{- define "chart.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "chart.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "chart.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "chart.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "chart.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "chart.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chart.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
`;

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "chart.fullname" . }}
  labels:
    {{- include "chart.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "chart.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      annotations:
        {{- toYaml .Values.podAnnotations | nindent 8 }}
      labels:
        {{- include "chart.selectorLabels" . | nindent 8 }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
              protocol: TCP
          env:
            {{- toYaml .Values.config.env | nindent 12 }}
          livenessProbe:
            httpGet: { path: /healthz, port: http }
          readinessProbe:
            httpGet: { path: /readyz, port: http }
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
      nodeSelector:
        {{- toYaml .Values.nodeSelector | nindent 8 }}
      tolerations:
        {{- toYaml .Values.tolerations | nindent 8 }}
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: {{ include "chart.fullname" . }}
  labels:
    {{- include "chart.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "chart.selectorLabels" . | nindent 4 }}
`;

/** A small realistic chart (~3 KB compressed), the same bytes for the same name and version. */
export function syntheticChart(name: string, version: string): Promise<Buffer> {
  const rand = prng(seedOf(`${name}@${version}`));
  return tarGz([
    { name: `${name}/Chart.yaml`, content: chartYaml(name, version, rand) },
    { name: `${name}/values.yaml`, content: valuesYaml(name, rand) },
    { name: `${name}/templates/_helpers.tpl`, content: HELPERS },
    { name: `${name}/templates/deployment.yaml`, content: DEPLOYMENT },
    { name: `${name}/templates/service.yaml`, content: SERVICE },
    { name: `${name}/README.md`, content: `# ${name}\n\n${words(rand, 150).join(' ')}.\n` },
  ]);
}

/** Writes each (name, version) to `dir` one at a time, so memory stays flat however many there are. */
export async function writeCharts(
  dir: string,
  specs: Iterable<{ name: string; version: string }>,
  progress?: (done: number) => void,
): Promise<ChartFile[]> {
  await mkdir(dir, { recursive: true });
  const out: ChartFile[] = [];
  for (const { name, version } of specs) {
    const path = join(dir, `${name}-${version}.tgz`);
    await writeFile(path, await syntheticChart(name, version));
    out.push({ name, version, path });
    if (progress && out.length % 1000 === 0) progress(out.length);
  }
  return out;
}

function* grid(names: string[], versions: number): Generator<{ name: string; version: string }> {
  for (const name of names) for (let v = 0; v < versions; v++) yield { name, version: versionAt(v) };
}

/**
 * N charts × V versions: 90% to `bench` (app-NNNN), 10% (at least one) to `vendor` (pro-NNNN).
 * Different prefixes keep the two repositories' contents obvious in any index.
 */
export async function generateStore(
  dir: string,
  charts: number,
  versions: number,
  progress?: (done: number) => void,
): Promise<SyntheticStore> {
  const vendorCount = Math.max(1, Math.round(charts * 0.1));
  const benchCount = charts - vendorCount;
  if (benchCount < 1)
    throw new Error(`--charts ${charts} leaves no free chart for publisher bench (need at least 2)`);
  const width = Math.max(4, String(charts).length);
  const benchCharts = Array.from({ length: benchCount }, (_, i) => chartName('app', i + 1, width));
  const vendorCharts = Array.from({ length: vendorCount }, (_, i) => chartName('pro', i + 1, width));
  const bench = await writeCharts(join(dir, 'bench'), grid(benchCharts, versions), progress);
  const vendor = await writeCharts(join(dir, 'vendor'), grid(vendorCharts, versions), (n) =>
    progress?.(bench.length + n),
  );
  return { bench, vendor, benchCharts, vendorCharts, totalVersions: bench.length + vendor.length };
}
