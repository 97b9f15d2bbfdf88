import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type MailStatus = 'pending' | 'sent' | 'skipped' | 'failed';

/**
 * One message to send, written in the transaction of the event that causes it. It names what it is
 * about (`kind`, `subject`), never its text: the text (a license key, say) is rendered when it is sent,
 * so no secret waits in this table. (kind, subject) is unique: each event mails at most once.
 */
@Entity('mail_outbox')
@Index('mail_outbox_kind_subject_key', ['kind', 'subject'], { unique: true })
@Index('mail_outbox_due_idx', ['nextAttemptAt'], { where: `"status" = 'pending'` })
export class MailOutboxEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 40 })
  kind!: string;

  /** What the message is about (a license id): its renderer reads the rest when sending. */
  @Column({ type: 'varchar', length: 100 })
  subject!: string;

  @Column({ type: 'varchar', length: 320 })
  recipient!: string;

  @Column({ type: 'varchar', length: 10, default: 'pending' })
  status!: MailStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  /**
   * When a sender may (next) take it. Taking it moves this past a lease, so a sender that dies mid-send
   * leaves the message due again once the lease ends, for any replica.
   */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'done_at', type: 'timestamptz', nullable: true })
  doneAt!: Date | null;
}
export const MAIL_ENTITIES = [MailOutboxEntity];
