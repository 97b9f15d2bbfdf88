import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A sign-in link e-mailed to a buyer. Only its id is stored: the secret half of the link is an HMAC of
 * the id under the server's secret, derived again when the mail is written and when the link is opened,
 * so the database alone can neither reconstruct nor forge a link. Single-use (`usedAt`) and short-lived.
 */
@Entity('buyer_login_link')
@Index('buyer_login_link_expires_idx', ['expiresAt'])
export class BuyerLoginLinkEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 320 })
  email!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}

/** A signed-in buyer's browser: the cookie holds a random token, the table its SHA-256. */
@Entity('buyer_session')
@Index('buyer_session_expires_idx', ['expiresAt'])
export class BuyerSessionEntity {
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;

  @Column({ type: 'varchar', length: 320 })
  email!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}

export const STOREFRONT_ENTITIES = [BuyerLoginLinkEntity, BuyerSessionEntity];
