export { inspectChartArchive } from './archive';
export type { InspectedChart } from './archive';
export { DEFAULT_INSPECTION_LIMITS, resolveLimits } from './limits';
export type { InspectionLimits } from './limits';
export { InspectionErrorCode, InspectionErrors } from './codes';
export { parseChartYaml, isStrictSemver, isValidChartName, DEFAULT_MAX_CHART_YAML_BYTES } from './chart-yaml';
export type {
  ParsedChartYaml,
  ParseChartYamlOptions,
  ChartMetadata,
  ChartMaintainer,
  ChartDependency,
} from './chart-yaml';
