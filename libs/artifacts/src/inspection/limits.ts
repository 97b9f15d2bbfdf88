const MiB = 1024 * 1024;

export interface InspectionLimits {
  /** Decompressed bytes read from the gzip stream (tar headers included); default 100 MiB, Helm's loader limit. */
  maxDecompressedBytes: number;
  /** Size of any one file; default 5 MiB, Helm's loader limit. */
  maxFileBytes: number;
  /** Tar entries, directories included; default 10,000. */
  maxEntries: number;
  /** Largest `Chart.yaml` (and `requirements.yaml`); default 1 MiB. */
  maxChartYamlBytes?: number;
  /** The README is kept up to this many bytes and truncated beyond; default 1 MiB. */
  maxReadmeBytes?: number;
  /** `values.yaml` is kept (for chart pages) up to this many bytes and truncated beyond; default 1 MiB. */
  maxValuesBytes?: number;
  /** Largest `values.schema.json` (stored as jsonb with every version); default 1 MiB. */
  maxValuesSchemaBytes?: number;
}

export const DEFAULT_INSPECTION_LIMITS: Readonly<Required<InspectionLimits>> = Object.freeze({
  maxDecompressedBytes: 100 * MiB,
  maxFileBytes: 5 * MiB,
  maxEntries: 10_000,
  maxChartYamlBytes: MiB,
  maxReadmeBytes: MiB,
  maxValuesBytes: MiB,
  maxValuesSchemaBytes: MiB,
});

/** The defaults overridden by every limit that is given (undefined means "use the default"). */
export function resolveLimits(limits: Partial<InspectionLimits> = {}): Required<InspectionLimits> {
  const out = { ...DEFAULT_INSPECTION_LIMITS };
  for (const key of Object.keys(out) as Array<keyof InspectionLimits>) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new RangeError(`inspection limit ${key} must be a positive integer`);
    out[key] = value;
  }
  return out;
}
