import type { StoredChartVersion } from '@berth/catalog';

/** Object keys in a stable order so the same catalog always yields the same bytes (and ETag). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
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

/**
 * The repository index as JSON: Helm >= 3.13 parses JSON bodies on a fast path and, JSON being YAML,
 * older clients read it too. `serverInfo.contextPath` tells ChartMuseum's push plugin where the
 * upload API of this repository lives (`<contextPath>/api/charts`).
 */
export function renderIndex(
  charts: Map<string, StoredChartVersion[]>,
  generated: Date,
  contextPath: string,
): string {
  const entries: Record<string, unknown[]> = {};
  for (const name of [...charts.keys()].sort()) entries[name] = (charts.get(name) ?? []).map(indexEntry);
  return JSON.stringify({
    apiVersion: 'v1',
    entries,
    generated: generated.toISOString(),
    serverInfo: { contextPath },
  });
}
