import type { BlobStore } from './blob-store';

const BATCH = 500;

/**
 * Deletes the objects under `prefix` older than `cutoffMs` that no record names: what a write leaves when
 * its process dies between storing the bytes and recording them. `live` answers, for a batch of keys,
 * which of them some record (or a session in flight) still names. Returns the keys deleted.
 */
export async function sweepUnreferenced(
  store: BlobStore,
  prefix: string,
  cutoffMs: number,
  live: (keys: string[]) => Promise<Set<string>>,
): Promise<string[]> {
  const deleted: string[] = [];
  let batch: string[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const kept = await live(batch);
    for (const key of batch) {
      if (kept.has(key)) continue;
      await store.delete(key);
      deleted.push(key);
    }
    batch = [];
  };
  for await (const blob of store.list(prefix)) {
    if (blob.lastModified.getTime() > cutoffMs) continue;
    batch.push(blob.key);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return deleted;
}
