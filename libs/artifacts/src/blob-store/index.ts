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
export { FsBlobStore, FS_BLOB_TMP_DIR, type FsBlobStoreOptions } from './fs-blob-store';
export { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store';
