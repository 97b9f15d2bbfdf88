import { defineErrors, ErrorKind, sentence } from '@berth/common';

/** The stable `DomainError` codes the inspector throws; kinds and messages in `InspectionErrors` below. */
export const InspectionErrorCode = {
  ArchiveNotGzip: 'archive_not_gzip',
  ArchiveCorrupt: 'archive_corrupt',
  ArchiveEmpty: 'archive_empty',
  ArchivePathUnsafe: 'archive_path_unsafe',
  ArchiveEntryType: 'archive_entry_type',
  ArchiveLayout: 'archive_layout',
  ArchiveDuplicateEntry: 'archive_duplicate_entry',
  ArchiveTooLarge: 'archive_too_large',
  ArchiveFileTooLarge: 'archive_file_too_large',
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

/** Each inspection code's kind and message, declared once; throw `InspectionErrors.<Code>(…)`. */
export const InspectionErrors = defineErrors(InspectionErrorCode, {
  ArchiveNotGzip: { kind: ErrorKind.Invalid, message: 'The chart archive is not a gzip-compressed file.' },
  ArchiveCorrupt: { kind: ErrorKind.Invalid, message: sentence },
  ArchiveEmpty: { kind: ErrorKind.Invalid, message: sentence },
  ArchivePathUnsafe: {
    kind: ErrorKind.Invalid,
    message: 'The chart archive contains a path that is not allowed.',
  },
  ArchiveEntryType: {
    kind: ErrorKind.Invalid,
    message: 'The chart archive may only contain regular files and directories (no links, devices or fifos).',
  },
  ArchiveLayout: { kind: ErrorKind.Invalid, message: sentence },
  ArchiveDuplicateEntry: {
    kind: ErrorKind.Invalid,
    message: 'The chart archive contains the same path more than once.',
  },
  ArchiveTooLarge: {
    kind: ErrorKind.TooLarge,
    message: (maxBytes: number) => `The chart is larger than ${maxBytes} bytes decompressed.`,
  },
  ArchiveFileTooLarge: {
    kind: ErrorKind.TooLarge,
    message: (maxBytes: number) => `A file in the chart is larger than ${maxBytes} bytes.`,
  },
  ArchiveTooManyEntries: {
    kind: ErrorKind.TooLarge,
    message: (maxEntries: number) => `The chart archive has more than ${maxEntries} entries.`,
  },
  ChartYamlMissing: {
    kind: ErrorKind.Invalid,
    message: 'The chart archive has no Chart.yaml in its top directory.',
  },
  ChartYamlInvalid: { kind: ErrorKind.Invalid, message: sentence },
  ChartApiVersionInvalid: { kind: ErrorKind.Invalid, message: sentence },
  ChartNameInvalid: { kind: ErrorKind.Invalid, message: sentence },
  ChartVersionInvalid: { kind: ErrorKind.Invalid, message: sentence },
  ValuesSchemaInvalid: { kind: ErrorKind.Invalid, message: sentence },
});
