import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { MailOutboxEntity } from './entities';

/** A message to send once: what it is about, and to whom. */
export interface OutboxItem {
  /** The renderer that writes it (see MailSender.register). */
  kind: string;
  /** What it is about, unique within the kind: the same (kind, subject) is mailed at most once. */
  subject: string;
  to: string;
}

/** Writes messages into the outbox inside the caller's transaction, so they exist exactly when the event does. */
@Injectable()
export class MailOutbox {
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
}
