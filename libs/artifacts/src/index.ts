export { ArtifactsModule } from './artifacts.module';
export { ChartInspector } from './chart-inspector';
export * from './blob-store';
export {
  inspectChartArchive,
  DEFAULT_INSPECTION_LIMITS,
  InspectionErrorCode,
  InspectionErrors,
} from './inspection';
export { ArtifactsErrorCode, ArtifactsErrors } from './errors';
export type { InspectedChart, InspectionLimits } from './inspection';
