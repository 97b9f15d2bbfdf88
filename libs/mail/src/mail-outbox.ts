import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { MailOutboxEntity, MailStatus } from './entities';

/** A message to send once: what it is about, and to whom. */
export interface OutboxItem {
  /** The renderer that writes it (see MailSender.register). */
  kind: string;
  /** What it is about, unique within the kind: the same (kind, subject) is mailed at most once. */
  subject: string;
  to: string;
}

/** What became of one message: when it was queued and, once done, sent (or skipped, or given up). */
export interface MailRecord {
  kind: string;
  subject: string;
  recipient: string;
  status: MailStatus;
  queuedAt: Date;
  doneAt: Date | null;
}

/** Writes messages into the outbox inside the caller's transaction, so they exist exactly when the event does. */
@Injectable()
export class MailOutbox {
  constructor(private readonly dataSource: DataSource) {}

  /** False when (kind, subject) was already in the outbox: nothing new is sent. */
  async enqueue(manager: EntityManager, item: OutboxItem): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(MailOutboxEntity)
      .values({ kind: item.kind, subject: item.subject, recipient: item.to })
      .orIgnore()
      .returning(['id'])
      .execute();
    return !!result.raw?.length;
  }

  /**
   * The messages of these kinds about these subjects, newest first: a subject matches exactly, or as the
   * part before a `/` (a kind that may mail the same subject again names each message `subject/n`).
   */
  async about(kinds: string[], subjects: string[], limit = 500): Promise<MailRecord[]> {
    if (!kinds.length || !subjects.length) return [];
    const rows = await this.dataSource
      .getRepository(MailOutboxEntity)
      .createQueryBuilder('m')
      .where('m.kind = ANY(:kinds)', { kinds })
      .andWhere(`split_part(m.subject, '/', 1) = ANY(:subjects)`, { subjects })
      .orderBy('m.created_at', 'DESC')
      .addOrderBy('m.id', 'DESC')
      .limit(limit)
      .getMany();
    return rows.map((r) => ({
      kind: r.kind,
      subject: r.subject,
      recipient: r.recipient,
      status: r.status,
      queuedAt: r.createdAt,
      doneAt: r.doneAt,
    }));
  }
}
