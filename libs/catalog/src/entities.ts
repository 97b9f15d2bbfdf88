import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

@Entity('chart')
@Index('chart_publisher_name_key', ['publisherId', 'name'], { unique: true })
// A GIN expression index TypeORM cannot describe (migration ChartSearch): declared so it is left alone.
@Index('chart_search_document', { synchronize: false })
export class ChartEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The owning publisher (accounts context); referenced by id, not by a cross-context relation. */
  @Column({ name: 'publisher_id', type: 'uuid' })
  publisherId: string;

  @Column({ type: 'varchar', length: 63 })
  name: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'text', nullable: true })
  icon: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  keywords: string[];

  @Column({ type: 'text', nullable: true })
  home: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  sources: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

@Entity('chart_version')
@Index('chart_version_chart_version_key', ['chartId', 'version'], { unique: true })
// The storefront's "recently updated" and "has a live version" read only these two columns of live rows;
// without it each chart's versions are fetched from the heap, where README and values make rows wide.
@Index('chart_version_live_created_idx', ['chartId', 'createdAt'], { where: '"yanked_at" IS NULL' })
export class ChartVersionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'chart_id', type: 'uuid' })
  chartId: string;

  @ManyToOne(() => ChartEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'chart_id' })
  chart?: ChartEntity;

  @Column({ type: 'varchar', length: 255 })
  version: string;

  @Column({ name: 'app_version', type: 'varchar', length: 255, nullable: true })
  appVersion: string | null;

  /** Hex SHA-256 of the exact bytes stored and served; Helm and Helm v4's cache key on it. */
  @Column({ type: 'char', length: 64 })
  digest: string;

  @Column({ type: 'integer' })
  size: number;

  @Index('chart_version_blob_key_key', { unique: true })
  @Column({ name: 'blob_key', type: 'varchar', length: 255 })
  blobKey: string;

  @Column({ name: 'prov_blob_key', type: 'varchar', length: 255, nullable: true })
  provBlobKey: string | null;

  /** Bytes of the .prov file (null: none, or stored before this was recorded). Counts toward the quota. */
  @Column({ name: 'prov_size', type: 'integer', nullable: true })
  provSize: number | null;

  /** Chart.yaml as Helm's index writes it (chart.Metadata), so index entries need no re-parse. */
  @Column({ type: 'jsonb' })
  metadata: Record<string, unknown>;

  @Column({ type: 'text', nullable: true })
  readme: string | null;

  @Column({ name: 'values_schema', type: 'jsonb', nullable: true })
  valuesSchema: unknown;

  /** `values.yaml` as a chart page shows it, cut at the inspector's limit (then `valuesTruncated`). */
  @Column({ name: 'values_yaml', type: 'text', nullable: true })
  valuesYaml: string | null;

  @Column({ name: 'values_truncated', type: 'boolean', default: false })
  valuesTruncated: boolean;

  /** Full image references written in the chart's templates (the inspector's `templateImages`). */
  @Column({ name: 'template_images', type: 'jsonb', default: () => "'[]'" })
  templateImages: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'yanked_at', type: 'timestamptz', nullable: true })
  yankedAt: Date | null;
}

@Entity('listing')
export class ListingEntity {
  @PrimaryColumn({ name: 'chart_id', type: 'uuid' })
  chartId: string;

  @OneToOne(() => ChartEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'chart_id' })
  chart?: ChartEntity;

  /** Integer minor units (cents); 0 = free. */
  @Column({ name: 'price_amount', type: 'integer' })
  priceAmount: number;

  /** ISO 4217, lower case as Stripe writes it. */
  @Column({ type: 'char', length: 3 })
  currency: string;

  @Column({ name: 'update_policy', type: 'varchar', length: 16 })
  updatePolicy: 'all' | 'major' | 'minor' | 'window';

  @Column({ name: 'update_window_months', type: 'integer', nullable: true })
  updateWindowMonths: number | null;

  @Column({ type: 'boolean', default: false })
  published: boolean;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/**
 * What a publisher stores (chart archives and `.prov` files, yanked versions too: their bytes are kept),
 * added to in the transaction of every write, so the quota check reads one row instead of summing the
 * publisher's whole catalog on every upload.
 */
@Entity('publisher_usage')
export class PublisherUsageEntity {
  @PrimaryColumn({ name: 'publisher_id', type: 'uuid' })
  publisherId: string;

  /** bigint: a string in JavaScript. */
  @Column({ name: 'stored_bytes', type: 'bigint', default: 0 })
  storedBytes: string;
}

export const CATALOG_ENTITIES = [ChartEntity, ChartVersionEntity, ListingEntity, PublisherUsageEntity];
