/** The stable `DomainError` codes the inspector throws (all kind Invalid, except the three TooLarge ones). */
export const InspectionErrorCode = {
  ArchiveNotGzip: 'archive_not_gzip',
  ArchiveCorrupt: 'archive_corrupt',
  ArchiveEmpty: 'archive_empty',
  ArchivePathUnsafe: 'archive_path_unsafe',
  ArchiveEntryType: 'archive_entry_type',
  ArchiveLayout: 'archive_layout',
  ArchiveDuplicateEntry: 'archive_duplicate_entry',
  /** kind TooLarge */
  ArchiveTooLarge: 'archive_too_large',
  /** kind TooLarge */
  ArchiveFileTooLarge: 'archive_file_too_large',
  /** kind TooLarge */
  ArchiveTooManyEntries: 'archive_too_many_entries',
  ChartYamlMissing: 'chart_yaml_missing',
  ChartYamlInvalid: 'chart_yaml_invalid',
  ChartApiVersionInvalid: 'chart_api_version_invalid',
  ChartNameInvalid: 'chart_name_invalid',
  ChartVersionInvalid: 'chart_version_invalid',
  /** values.schema.json too large, nested too deeply, or holding a character the database refuses. */
  ValuesSchemaInvalid: 'values_schema_invalid',
} as const;

export type InspectionErrorCode = (typeof InspectionErrorCode)[keyof typeof InspectionErrorCode];
