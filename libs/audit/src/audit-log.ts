import { Injectable } from '@nestjs/common';
import { keysetPage, ListFilter } from '@berth/common';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from './entities';

/** Every action the log records; the API and the console name them so. */
export const AUDIT_ACTIONS = [
  'signed_in',
  'signed_out_everywhere',
  'password_changed',
  'chart_uploaded',
  'provenance_uploaded',
  'chart_yanked',
  'release_image_attached',
  'listing_changed',
  'profile_changed',
  'license_granted',
  'license_revoked',
  'license_reinstated',
  'license_mail_resent',
  'order_refunded',
  'api_token_created',
  'api_token_revoked',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acted: the publisher's owner (its account) or one of its API tokens. */
export type AuditActor = { kind: 'owner'; accountId: string } | { kind: 'api_token'; tokenId: string };

export interface AuditEntry {
  action: AuditAction;
  subject: string;
  /** Null for an account-wide action. */
  publisherId: string | null;
  actor: AuditActor;
  clientAddress?: string;
  userAgent?: string;
}

export interface AuditEventView {
  id: string;
  at: Date;
  action: string;
  subject: string;
  actor: AuditActor;
  clientAddress: string | null;
  userAgent: string | null;
}

export interface AuditFilter extends Pick<ListFilter, 'from' | 'to' | 'cursor' | 'limit'> {
  action?: AuditAction;
}

@Injectable()
export class AuditLog {
  constructor(private readonly dataSource: DataSource) {}

  async record(e: AuditEntry): Promise<void> {
    await this.dataSource.getRepository(AuditEventEntity).insert({
      publisherId: e.publisherId,
      accountId: e.actor.kind === 'owner' ? e.actor.accountId : null,
      apiTokenId: e.actor.kind === 'api_token' ? e.actor.tokenId : null,
      action: e.action,
      subject: e.subject.slice(0, 200),
      clientAddress: e.clientAddress?.slice(0, 64) ?? null,
      userAgent: e.userAgent?.slice(0, 200) ?? null,
    });
  }

  /**
   * A publisher's log, newest first, keyset-paged: its own events and its owner's account-wide ones.
   */
  async list(
    publisherId: string,
    ownerAccountId: string,
    filter: AuditFilter = {},
  ): Promise<{ events: AuditEventView[]; nextCursor: string | null }> {
    const qb = this.dataSource
      .getRepository(AuditEventEntity)
      .createQueryBuilder('e')
      .where(
        '(e.publisher_id = :publisherId OR (e.publisher_id IS NULL AND e.account_id = :ownerAccountId))',
        {
          publisherId,
          ownerAccountId,
        },
      );
    if (filter.action) qb.andWhere('e.action = :action', { action: filter.action });
    if (filter.from) qb.andWhere('e.created_at >= :from', { from: filter.from });
    if (filter.to) qb.andWhere('e.created_at < :to', { to: filter.to });
    const { rows, nextCursor } = await keysetPage(qb, 'created_at', filter);
    return {
      events: rows.map((r) => ({
        id: r.id,
        at: r.createdAt,
        action: r.action,
        subject: r.subject,
        actor: r.apiTokenId
          ? { kind: 'api_token' as const, tokenId: r.apiTokenId }
          : { kind: 'owner' as const, accountId: r.accountId ?? '' },
        clientAddress: r.clientAddress,
        userAgent: r.userAgent,
      })),
      nextCursor,
    };
  }
}
