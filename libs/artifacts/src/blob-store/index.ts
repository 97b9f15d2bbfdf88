export {
  BLOB_STORE,
  DEFAULT_BLOB_MAX_BYTES,
  MAX_BLOB_KEY_LENGTH,
  assertValidBlobKey,
  assertValidBlobPrefix,
  type BlobInfo,
  type BlobStore,
  type PutOptions,
  type PutResult,
} from './blob-store';
export { sweepUnreferenced } from './unreferenced-sweep';
export { FsBlobStore, FS_BLOB_TMP_DIR, type FsBlobStoreOptions } from './fs-blob-store';
export type { S3BlobStore, S3BlobStoreOptions } from './s3-blob-store';

/** The S3 driver, loaded only when configured: the AWS SDK alone is about 20 MB of a process's memory. */
export const loadS3BlobStore = async () => (await import('./s3-blob-store')).S3BlobStore;
