import type { DomainError } from '@berth/common';
import {
  decodeInto,
  GoDecodeError,
  type GoStruct,
  type GoType,
  marshal,
  toJsonable,
  zeroOf,
} from './go-json';
import { type GoValue, sanitizeGoString } from './go-semantics';
import { decodeGoYaml, DEFAULT_GO_YAML_LIMITS, GoYamlError } from './go-yaml';
import { findUnstorable } from './storable';
import { InspectionErrors } from './codes';

/** One maintainer as `helm repo index` writes it (`chart.Maintainer`, every field omitempty). */
export type ChartMaintainer = { name?: string; email?: string; url?: string };

/** One dependency as `helm repo index` writes it (`chart.Dependency`: `name` and `repository` always present). */
export type ChartDependency = {
  name: string;
  version?: string;
  repository: string;
  condition?: string;
  tags?: string[];
  enabled?: boolean;
  'import-values'?: unknown[];
  alias?: string;
};

/**
 * `Chart.yaml` exactly as Helm's `chart.Metadata` marshals to JSON in an index entry (omitempty applied,
 * unknown keys dropped, strings sanitised the way Helm's `Validate` does).
 */
export type ChartMetadata = {
  name: string;
  home?: string;
  sources?: string[];
  version: string;
  description?: string;
  keywords?: string[];
  maintainers?: ChartMaintainer[];
  icon?: string;
  apiVersion: string;
  condition?: string;
  tags?: string;
  appVersion?: string;
  deprecated?: boolean;
  annotations?: Record<string, string>;
  kubeVersion?: string;
  dependencies?: ChartDependency[];
  type?: string;
};

export interface ParsedChartYaml {
  name: string;
  version: string;
  appVersion?: string;
  apiVersion: 'v1' | 'v2';
  metadata: ChartMetadata;
}

export interface ParseChartYamlOptions {
  /**
   * `requirements.yaml` from the same chart. Helm's loader unmarshals it over the metadata (whatever the
   * apiVersion; it only warns for v2), which is how v1 charts declare dependencies.
   */
  requirementsYaml?: string | Buffer;
  /** Largest `Chart.yaml` / `requirements.yaml` accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_CHART_YAML_BYTES = 1024 * 1024;

const str = (json: string, omitempty = true) => ({ json, type: { kind: 'string' } as GoType, omitempty });
const strings = (json: string) => ({
  json,
  type: { kind: 'slice', elem: { kind: 'string' } } as GoType,
  omitempty: true,
});

// helm.sh/helm/v3 pkg/chart/metadata.go and dependency.go, field order and JSON tags as declared.
const MAINTAINER: GoType = { kind: 'struct', fields: [str('name'), str('email'), str('url')] };
const DEPENDENCY: GoType = {
  kind: 'struct',
  fields: [
    str('name', false),
    str('version'),
    str('repository', false),
    str('condition'),
    strings('tags'),
    { json: 'enabled', type: { kind: 'bool' }, omitempty: true },
    { json: 'import-values', type: { kind: 'slice', elem: { kind: 'interface' } }, omitempty: true },
    str('alias'),
  ],
};
const METADATA: Extract<GoType, { kind: 'struct' }> = {
  kind: 'struct',
  fields: [
    str('name'),
    str('home'),
    strings('sources'),
    str('version'),
    str('description'),
    strings('keywords'),
    {
      json: 'maintainers',
      type: { kind: 'slice', elem: { kind: 'ptr', elem: MAINTAINER } },
      omitempty: true,
    },
    str('icon'),
    str('apiVersion'),
    str('condition'),
    str('tags'),
    str('appVersion'),
    { json: 'deprecated', type: { kind: 'bool' }, omitempty: true },
    { json: 'annotations', type: { kind: 'stringMap' }, omitempty: true },
    str('kubeVersion'),
    {
      json: 'dependencies',
      type: { kind: 'slice', elem: { kind: 'ptr', elem: DEPENDENCY } },
      omitempty: true,
    },
    str('type'),
  ],
} as Extract<GoType, { kind: 'struct' }>;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// semver.org's regular expression for SemVer 2.0.0 (no leading "v", no leading zeros, exactly three numbers).
const SEMVER2 =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const MAX_UINT64 = (1n << 64n) - 1n;
// helm pkg/chart/chart.go aliasNameFormat
const ALIAS_NAME = /^[a-zA-Z0-9_-]+$/;

/** True for a strict SemVer 2 version whose numbers also fit Helm's uint64 parser. */
export function isStrictSemver(version: string): boolean {
  const m = SEMVER2.exec(version);
  return m !== null && [m[1], m[2], m[3]].every((n) => BigInt(n) <= MAX_UINT64);
}

/** A chart name the store accepts: a DNS-1123 label (which also rules out `.`, `..` and `/`). */
export function isValidChartName(name: string): boolean {
  return name.length <= 63 && DNS1123_LABEL.test(name);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function yamlText(input: string | Buffer, file: string, maxBytes: number): string {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (size > maxBytes) throw InspectionErrors.ChartYamlInvalid(`${file} is larger than ${maxBytes} bytes.`);
  if (typeof input === 'string') return input.replace(/^\uFEFF/, '');
  try {
    return utf8.decode(input); // strips a UTF-8 BOM, as Helm's loader does
  } catch {
    throw InspectionErrors.ChartYamlInvalid(`${file} is not valid UTF-8.`);
  }
}

function decodeFile(input: string | Buffer, file: string, maxBytes: number): GoValue {
  const text = yamlText(input, file, maxBytes);
  try {
    return decodeGoYaml(text);
  } catch (err) {
    if (err instanceof GoYamlError)
      throw InspectionErrors.ChartYamlInvalid(`${file} is not valid YAML (${err.message}).`);
    throw err;
  }
}

// A wrongly typed identity field reports that field's own code.
const FIELD_ERRORS: Record<string, (message: string) => DomainError> = {
  apiVersion: InspectionErrors.ChartApiVersionInvalid,
  name: InspectionErrors.ChartNameInvalid,
  version: InspectionErrors.ChartVersionInvalid,
};

function overlay(existing: GoStruct, value: GoValue, file: string): GoStruct {
  try {
    return decodeInto(METADATA, existing, toJsonable(value, METADATA, ''), '') as GoStruct;
  } catch (err) {
    if (err instanceof GoDecodeError) {
      const error = FIELD_ERRORS[err.path] ?? InspectionErrors.ChartYamlInvalid;
      throw error(`${file}${err.path ? ` ${err.path}` : ''} ${err.problem}.`);
    }
    throw err;
  }
}

/**
 * Parses and validates a `Chart.yaml` (and the chart's `requirements.yaml`, if any) the way Helm's loader,
 * `Metadata.Validate` and `helm repo index` do, with the store's stricter rules on top: apiVersion must be
 * present and v1 or v2, the name a DNS-1123 label, the version strict SemVer 2 and a YAML string.
 */
export function parseChartYaml(text: string | Buffer, options: ParseChartYamlOptions = {}): ParsedChartYaml {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CHART_YAML_BYTES;
  const chartYaml = decodeFile(text, 'Chart.yaml', maxBytes);
  if (chartYaml.kind !== 'map') throw InspectionErrors.ChartYamlInvalid('Chart.yaml must be a YAML mapping.');
  let md = overlay(zeroOf(METADATA) as GoStruct, chartYaml, 'Chart.yaml');
  if (md.apiVersion === '') throw InspectionErrors.ChartApiVersionInvalid('Chart.yaml has no apiVersion.');

  if (options.requirementsYaml !== undefined) {
    const requirements = decodeFile(options.requirementsYaml, 'requirements.yaml', maxBytes);
    if (requirements.kind !== 'map' && requirements.kind !== 'null') {
      throw InspectionErrors.ChartYamlInvalid('requirements.yaml must be a YAML mapping.');
    }
    md = overlay(md, requirements, 'requirements.yaml');
  }

  validate(md);
  const metadata = marshal(METADATA, md) as ChartMetadata;
  // Annotations (keys too) and import-values are not sanitised by Helm; a `"\0"` or `"\ud800"` escape in
  // them would pass every rule above and then be refused by the database.
  const unstorable = findUnstorable(metadata, DEFAULT_GO_YAML_LIMITS.maxDepth);
  if (unstorable === 'depth') {
    throw InspectionErrors.ChartYamlInvalid(
      `Chart.yaml is nested more than ${DEFAULT_GO_YAML_LIMITS.maxDepth} levels deep.`,
    );
  }
  if (unstorable) {
    throw InspectionErrors.ChartYamlInvalid(
      'Chart.yaml holds a NUL character or an unpaired surrogate (in a key or a value).',
    );
  }
  return {
    name: metadata.name,
    version: metadata.version,
    ...(metadata.appVersion ? { appVersion: metadata.appVersion } : {}),
    apiVersion: metadata.apiVersion as 'v1' | 'v2',
    metadata,
  };
}

/** Helm's `Metadata.Validate` (sanitising included) plus the store's stricter name/version/apiVersion rules. */
function validate(md: GoStruct): void {
  const apiVersion = md.apiVersion as string;
  if (apiVersion !== 'v1' && apiVersion !== 'v2') {
    throw InspectionErrors.ChartApiVersionInvalid('Chart.yaml apiVersion must be v1 or v2.');
  }
  const name = md.name as string;
  if (name === '') throw InspectionErrors.ChartNameInvalid('Chart.yaml has no name.');
  if (!isValidChartName(name)) {
    throw InspectionErrors.ChartNameInvalid(
      'The chart name must be a DNS-1123 label: at most 63 lowercase letters, digits and dashes.',
    );
  }
  const version = md.version as string;
  if (version === '') throw InspectionErrors.ChartVersionInvalid('Chart.yaml has no version.');
  if (!isStrictSemver(version)) {
    throw InspectionErrors.ChartVersionInvalid('The chart version must be a SemVer 2 version such as 1.2.3.');
  }
  if (!['', 'application', 'library'].includes(md.type as string)) {
    throw InspectionErrors.ChartYamlInvalid('Chart.yaml type must be application or library.');
  }

  for (const field of [
    'name',
    'description',
    'home',
    'icon',
    'condition',
    'tags',
    'appVersion',
    'kubeVersion',
  ]) {
    md[field] = sanitizeGoString(md[field] as string);
  }
  for (const field of ['sources', 'keywords']) {
    if (md[field]) md[field] = (md[field] as string[]).map(sanitizeGoString);
  }

  for (const m of (md.maintainers as Array<GoStruct | null>) ?? []) {
    if (m === null)
      throw InspectionErrors.ChartYamlInvalid('Chart.yaml maintainers must not contain empty entries.');
    for (const field of ['name', 'email', 'url']) m[field] = sanitizeGoString(m[field] as string);
  }

  const seen = new Set<string>();
  for (const d of (md.dependencies as Array<GoStruct | null>) ?? []) {
    if (d === null)
      throw InspectionErrors.ChartYamlInvalid('Chart.yaml dependencies must not contain empty entries.');
    for (const field of ['name', 'version', 'repository', 'condition'])
      d[field] = sanitizeGoString(d[field] as string);
    if (d.tags) d.tags = (d.tags as string[]).map(sanitizeGoString);
    const alias = d.alias as string;
    if (alias !== '' && !ALIAS_NAME.test(alias)) {
      throw InspectionErrors.ChartYamlInvalid(
        'A dependency alias may only contain letters, digits, "_" and "-".',
      );
    }
    const key = alias !== '' ? alias : (d.name as string);
    if (seen.has(key))
      throw InspectionErrors.ChartYamlInvalid('Two dependencies have the same name or alias.');
    seen.add(key);
  }
}
