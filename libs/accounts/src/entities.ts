import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';

@Entity('account')
export class AccountEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Stored in canonicalEmail form (NFKC, lower-cased); the unique index makes sign-up races safe. */
  @Index('account_email_key', { unique: true })
  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255 })
  passwordHash: string;

  /**
   * Access tokens carry the epoch they were issued in (`sev`) and are accepted only while it is the
   * account's: signing out everywhere or changing the password moves it on, ending every session.
   */
  @Column({ name: 'session_epoch', type: 'integer', default: 0 })
  sessionEpoch: number;

  /** When the owner opened the confirmation link (or reset the password by mail); null: not yet. */
  @Column({ name: 'email_verified_at', type: 'timestamptz', nullable: true })
  emailVerifiedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

@Entity('publisher')
export class PublisherEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('publisher_slug_key', { unique: true })
  @Column({ type: 'varchar', length: 40 })
  slug: string;

  @Column({ name: 'display_name', type: 'varchar', length: 100 })
  displayName: string;

  /** Where buyers' replies to license mail go (Reply-To); null: replies go nowhere useful. */
  @Column({ name: 'support_email', type: 'varchar', length: 320, nullable: true })
  supportEmail: string | null;

  /** A logo at an https address the publisher gave; null when none, or when an uploaded one is used. */
  @Column({ name: 'logo_url', type: 'varchar', length: 2048, nullable: true })
  logoUrl: string | null;

  /** An uploaded logo: its blob (server-made key), sniffed type and SHA-256 (hex, in its public URL). */
  @Column({ name: 'logo_blob_key', type: 'varchar', length: 512, nullable: true })
  logoBlobKey: string | null;

  @Column({ name: 'logo_content_type', type: 'varchar', length: 20, nullable: true })
  logoContentType: string | null;

  @Column({ name: 'logo_sha256', type: 'char', length: 64, nullable: true })
  logoSha256: string | null;

  @Index('publisher_owner_idx')
  @Column({ name: 'owner_account_id', type: 'uuid' })
  ownerAccountId: string;

  @ManyToOne(() => AccountEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'owner_account_id' })
  owner?: AccountEntity;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

@Entity('api_token')
export class ApiTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('api_token_publisher_idx')
  @Column({ name: 'publisher_id', type: 'uuid' })
  publisherId: string;

  @ManyToOne(() => PublisherEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'publisher_id' })
  publisher?: PublisherEntity;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** SHA-256 hex of the token: a high-entropy random token needs no slow hash. */
  @Index('api_token_hash_key', { unique: true })
  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  @Column({ type: 'text', array: true })
  scopes: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}

/**
 * A link mailed to an account's owner: confirm the address, or set a new password. Only the id is stored;
 * the link's secret half is an HMAC of it under the server's secret, so the database cannot rebuild one.
 */
@Entity('account_mail_token')
@Index('account_mail_token_account_idx', ['accountId'])
export class AccountMailTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId: string;

  @ManyToOne(() => AccountEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id' })
  account?: AccountEntity;

  @Column({ type: 'varchar', length: 20 })
  purpose: 'verify_email' | 'reset_password';

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;
}

/**
 * A publisher's signed-in browser: the cookie holds a random token, the row its SHA-256 and the account's
 * session epoch at sign-in, so signing out everywhere or changing the password ends it with the access
 * tokens.
 */
@Entity('console_session')
@Index('console_session_account_idx', ['accountId'])
export class ConsoleSessionEntity {
  @PrimaryColumn({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @ManyToOne(() => AccountEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id' })
  account?: AccountEntity;

  @Column({ name: 'session_epoch', type: 'integer' })
  sessionEpoch!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}

export const ACCOUNTS_ENTITIES = [
  AccountMailTokenEntity,
  AccountEntity,
  PublisherEntity,
  ApiTokenEntity,
  ConsoleSessionEntity,
];
