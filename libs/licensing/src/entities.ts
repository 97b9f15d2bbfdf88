import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

@Entity('signing_key')
export class SigningKeyEntity {
  /** RFC 7638 JWK thumbprint of the public key. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid: string;

  /** Pinned per key: verification never takes the algorithm from a token. */
  @Column({ type: 'varchar', length: 16 })
  algorithm: 'ES256';

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk: Record<string, string>;

  /** PKCS#8 PEM sealed with AES-256-GCM under LICENSE_SIGNING_SECRET: the database alone cannot sign. */
  @Column({ name: 'private_key_encrypted', type: 'text' })
  privateKeyEncrypted: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** A retired key signs nothing new but stays in the JWKS while licenses it signed live. */
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt: Date | null;
}

@Entity('license')
@Index('license_publisher_idx', ['publisherId', 'issuedAt'])
export class LicenseEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** One license per order (idempotent fulfilment); null for complimentary licenses. */
  @Index('license_order_key', { unique: true })
  @Column({ name: 'order_id', type: 'uuid', nullable: true })
  orderId: string | null;

  @Column({ name: 'publisher_id', type: 'uuid' })
  publisherId: string;

  @Column({ name: 'publisher_slug', type: 'varchar', length: 40 })
  publisherSlug: string;

  @Column({ name: 'chart_id', type: 'uuid' })
  chartId: string;

  @Column({ name: 'chart_name', type: 'varchar', length: 63 })
  chartName: string;

  /** Indexed: "My licenses" lists a buyer's licenses by it. */
  @Index('license_buyer_email_idx')
  @Column({ name: 'buyer_email', type: 'varchar', length: 320 })
  buyerEmail: string;

  /** A semver range fixed at purchase from the update policy. */
  @Column({ name: 'version_range', type: 'varchar', length: 255 })
  versionRange: string;

  /** `window` policy: versions created before this instant are covered. */
  @Column({ name: 'updates_until', type: 'timestamptz', nullable: true })
  updatesUntil: Date | null;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** A dispute in progress: not usable, but not final either. */
  @Column({ name: 'suspended_at', type: 'timestamptz', nullable: true })
  suspendedAt: Date | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  reason: string | null;

  /** The publisher's own words to the holder about a revocation, shown on "My licenses" as plain text. */
  @Column({ name: 'publisher_note', type: 'varchar', length: 300, nullable: true })
  publisherNote: string | null;

  @Column({ type: 'varchar', length: 64 })
  kid: string;

  /**
   * Bumped when the holder rotates the key: keys carry the generation they were minted for (`gen`), and
   * one below the row's is refused, so the old key stops working while the license id stays the same.
   */
  @Column({ name: 'key_generation', type: 'integer', default: 0 })
  keyGeneration: number;
}

export const LICENSING_ENTITIES = [SigningKeyEntity, LicenseEntity];
