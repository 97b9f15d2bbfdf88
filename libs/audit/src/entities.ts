import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One thing a publisher (its owner, or one of its API tokens) did, kept for the publisher to read: who,
 * what, to what, when, and from which address and client. Account-wide actions (sign-in, password,
 * signing out everywhere) have no publisher: they are shown to every publisher the account owns.
 */
@Entity('audit_event')
@Index('audit_event_publisher_idx', ['publisherId', 'createdAt'])
@Index('audit_event_account_idx', ['accountId', 'createdAt'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'publisher_id', type: 'uuid', nullable: true })
  publisherId: string | null;

  /** The owner's account, or null when an API token acted. */
  @Column({ name: 'account_id', type: 'uuid', nullable: true })
  accountId: string | null;

  @Column({ name: 'api_token_id', type: 'uuid', nullable: true })
  apiTokenId: string | null;

  @Column({ type: 'varchar', length: 40 })
  action: string;

  /** What it was done to, in the action's words: a chart, `chart@version`, a license or token id. */
  @Column({ type: 'varchar', length: 200 })
  subject: string;

  @Column({ name: 'client_address', type: 'varchar', length: 64, nullable: true })
  clientAddress: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 200, nullable: true })
  userAgent: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

export const AUDIT_ENTITIES = [AuditEventEntity];
