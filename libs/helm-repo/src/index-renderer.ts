import type { StoredChartVersion } from '@berth/catalog';

/** Object keys in a stable order so the same catalog always yields the same bytes (and ETag). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort())
      out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** One index entry: Helm's chart.Metadata as stored, plus what `helm repo index` adds. */
export function indexEntry(v: StoredChartVersion): Record<string, unknown> {
  return sortKeys({
    ...v.metadata,
    created: v.createdAt.toISOString(),
    digest: v.digest,
    // Relative: Helm resolves it against the repo URL, so credentials stay on the store's host.
    urls: [`charts/${v.name}-${v.version}.tgz`],
  }) as Record<string, unknown>;
}
