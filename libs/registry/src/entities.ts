import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** `<publisher>/<name>`: created by the first push into it, or by the first pull of a catalog chart. */
@Entity('oci_repository')
export class OciRepositoryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('oci_repository_publisher_idx')
  @Column({ name: 'publisher_id', type: 'uuid' })
  publisherId!: string;

  /** The full name, publisher slug included; unique. */
  @Index('oci_repository_name_key', { unique: true })
  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}

/**
 * Content-addressed bytes of one publisher: the same digest is stored once per publisher whatever
 * repositories link it, never across publishers (a digest must not open another publisher's bytes).
 */
@Entity('oci_blob')
export class OciBlobEntity {
  @PrimaryColumn({ name: 'publisher_id', type: 'uuid' })
  publisherId!: string;

  @PrimaryColumn({ type: 'varchar', length: 100 })
  digest!: string;

  @Column({ type: 'bigint' })
  size!: string;

  /** Where the bytes live in the blob store: `oci/…` for pushed blobs, a chart's own key for its archive. */
  @Column({ name: 'blob_key', type: 'varchar', length: 512 })
  blobKey!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}

/** A blob is visible in a repository only once it is linked there (pushed, mounted or referenced). */
@Entity('oci_repository_blob')
export class OciRepositoryBlobEntity {
  @PrimaryColumn({ name: 'repository_id', type: 'uuid' })
  repositoryId!: string;

  @PrimaryColumn({ type: 'varchar', length: 100 })
  digest!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}

/** A manifest, kept as the exact bytes that were pushed (or that Berth wrote for a catalog chart version). */
@Entity('oci_manifest')
@Index('oci_manifest_chart_version_idx', ['chartVersionId'])
export class OciManifestEntity {
  @PrimaryColumn({ name: 'repository_id', type: 'uuid' })
  repositoryId!: string;

  @PrimaryColumn({ type: 'varchar', length: 100 })
  digest!: string;

  @Column({ name: 'media_type', type: 'varchar', length: 255 })
  mediaType!: string;

  @Column({ type: 'bytea' })
  body!: Buffer;

  @Column({ name: 'artifact_type', type: 'varchar', length: 255, nullable: true })
  artifactType!: string | null;

  @Column({ name: 'subject_digest', type: 'varchar', length: 100, nullable: true })
  subjectDigest!: string | null;

  /** The catalog chart version this manifest is (Helm charts only). */
  @Column({ name: 'chart_version_id', type: 'uuid', nullable: true })
  chartVersionId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}

/** What a manifest points at: its config and layers (`blob`) or, for an index, its child manifests. */
@Entity('oci_manifest_reference')
@Index('oci_manifest_reference_child_idx', ['repositoryId', 'childDigest'])
export class OciManifestReferenceEntity {
  @PrimaryColumn({ name: 'repository_id', type: 'uuid' })
  repositoryId!: string;

  @PrimaryColumn({ name: 'manifest_digest', type: 'varchar', length: 100 })
  manifestDigest!: string;

  @PrimaryColumn({ name: 'child_digest', type: 'varchar', length: 100 })
  childDigest!: string;

  @Column({ type: 'varchar', length: 8 })
  kind!: 'blob' | 'manifest';
}

@Entity('oci_tag')
@Index('oci_tag_manifest_idx', ['repositoryId', 'manifestDigest'])
export class OciTagEntity {
  @PrimaryColumn({ name: 'repository_id', type: 'uuid' })
  repositoryId!: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  tag!: string;

  @Column({ name: 'manifest_digest', type: 'varchar', length: 100 })
  manifestDigest!: string;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

/**
 * An upload session. Each PATCH body is stored as its own part (a blob-store object), so the session
 * lives in Postgres and the blob store only: the next request may reach any replica.
 */
@Entity('oci_upload')
export class OciUploadEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'repository_id', type: 'uuid' })
  repositoryId!: string;

  @Column({ name: 'publisher_id', type: 'uuid' })
  publisherId!: string;

  /** Part keys in order, with their sizes and SHA-256 (hex). */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  parts!: Array<{ key: string; size: number; sha256: string }>;

  @Column({ type: 'bigint', default: 0 })
  size!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Index('oci_upload_updated_idx')
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

/**
 * A release's image: a chart version names `<host>/<publisher>/<repo>:<tag>` (or `@digest`); the reference
 * is resolved to a manifest digest once the image is there, and from then on a license covering the chart
 * version may pull that manifest and everything it reaches.
 */
@Entity('oci_release_image')
@Index('oci_release_image_lookup_idx', ['repositoryName', 'manifestDigest'])
export class OciReleaseImageEntity {
  @PrimaryColumn({ name: 'chart_version_id', type: 'uuid' })
  chartVersionId!: string;

  /** `<publisher>/<name>` as the chart names it. */
  @PrimaryColumn({ name: 'repository_name', type: 'varchar', length: 255 })
  repositoryName!: string;

  /** The tag as named, or `@<digest>` for a reference by digest. */
  @PrimaryColumn({ type: 'varchar', length: 160 })
  reference!: string;

  @Column({ name: 'manifest_digest', type: 'varchar', length: 100, nullable: true })
  manifestDigest!: string | null;

  @Column({ type: 'varchar', length: 16 })
  source!: 'annotation' | 'values' | 'template' | 'api';

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}

export const REGISTRY_ENTITIES = [
  OciRepositoryEntity,
  OciBlobEntity,
  OciRepositoryBlobEntity,
  OciManifestEntity,
  OciManifestReferenceEntity,
  OciTagEntity,
  OciUploadEntity,
  OciReleaseImageEntity,
];
