import { Injectable } from '@nestjs/common';
import { DownloadStats } from '@berth/analytics';
import { LicenseService, LicenseView } from '@berth/licensing';
import { MailOutbox } from '@berth/mail';
import { DataSource, In } from 'typeorm';
import { OrderEntity, PaymentDisputeEntity, PaymentRefundEntity } from './entities';
import { CommerceErrors } from './errors';
import { LICENSE_MAIL, LICENSE_MAIL_AGAIN } from './license-mail';
import { formatMoney } from './money';

export type TimelineEventType =
  | 'order_created'
  | 'order_paid'
  | 'order_refunded'
  | 'dispute_opened'
  | 'dispute_closed'
  | 'license_issued'
  | 'license_revoked'
  | 'mail'
  | 'pulls';

export const TIMELINE_EVENT_TYPES: readonly TimelineEventType[] = [
  'order_created',
  'order_paid',
  'order_refunded',
  'dispute_opened',
  'dispute_closed',
  'license_issued',
  'license_revoked',
  'mail',
  'pulls',
];

/** One thing that happened to a buyer of the publisher; `detail` is plain text (never trusted as HTML). */
export interface TimelineEvent {
  at: Date;
  /** True for a whole UTC day (pulls are counted per day), false for an instant. */
  wholeDay: boolean;
  type: TimelineEventType;
  chart: string | null;
  orderId: string | null;
  licenseId: string | null;
  detail: string;
}

export interface CustomerTimelineView {
  /** The buyer's e-mail address the lookup resolved to. */
  email: string;
  orders: number;
  licenses: number;
  /** Newest first. */
  events: TimelineEvent[];
  /** True when older events were left off (more than MAX_EVENTS). */
  truncated: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ORDERS = 500;
const MAX_LICENSES = 500;
export const MAX_TIMELINE_EVENTS = 1000;
/** Orders of a buyer are listed newest first; these sort later events of one instant first. */
const ORDER_OF_TYPE = new Map(TIMELINE_EVENT_TYPES.map((t, i) => [t, i]));

const MAIL_WORDS: Record<string, string> = {
  pending: 'queued',
  sent: 'sent',
  skipped: 'not sent (no longer applied)',
  failed: 'given up after repeated failures',
};

/**
 * A publisher's view of one buyer: found by e-mail address, order id or license id, only among this
 * publisher's orders and licenses (another publisher's ids are as unknown as ids that exist nowhere).
 * The timeline gathers the buyer's orders (created, paid, refunded, disputed), the licenses (issued,
 * revoked), the license e-mails from the outbox and the licensed pulls per day.
 */
@Injectable()
export class CustomerTimeline {
  constructor(
    private readonly dataSource: DataSource,
    private readonly licenses: LicenseService,
    private readonly mail: MailOutbox,
    private readonly downloads: DownloadStats,
  ) {}

  /** The buyer `q` names; 404 customer_not_found when nothing of this publisher matches. */
  async lookup(publisherId: string, q: string): Promise<CustomerTimelineView> {
    const email = await this.resolve(publisherId, q.trim());
    if (!email) throw CommerceErrors.CustomerNotFound();
    const [orders, licenses] = await Promise.all([
      this.dataSource.getRepository(OrderEntity).find({
        where: { publisherId, buyerEmail: email },
        order: { createdAt: 'DESC', id: 'DESC' },
        take: MAX_ORDERS,
      }),
      this.licensesOf(publisherId, email),
    ]);
    if (!orders.length && !licenses.length) throw CommerceErrors.CustomerNotFound();

    const refs = orders.map((o) => o.paymentRef).filter((r): r is string => !!r);
    const byRef = new Map(orders.filter((o) => o.paymentRef).map((o) => [o.paymentRef!, o]));
    const byLicense = new Map(licenses.map((l) => [l.id, l]));
    const [refunds, disputes, mails, pulls] = await Promise.all([
      refs.length
        ? this.dataSource.getRepository(PaymentRefundEntity).find({ where: { paymentRef: In(refs) } })
        : [],
      refs.length
        ? this.dataSource.getRepository(PaymentDisputeEntity).find({ where: { paymentRef: In(refs) } })
        : [],
      this.mail.about(
        [LICENSE_MAIL, LICENSE_MAIL_AGAIN],
        licenses.map((l) => l.id),
      ),
      this.pullsOf(licenses),
    ]);

    const events: TimelineEvent[] = [];
    const at = (d: Date, e: Omit<TimelineEvent, 'at' | 'wholeDay'>) =>
      events.push({ at: d, wholeDay: false, ...e });
    for (const o of orders) {
      const money = formatMoney(o.amount, o.currency);
      const ids = { chart: o.chartName, orderId: o.id, licenseId: null };
      at(o.createdAt, {
        type: 'order_created',
        ...ids,
        detail: `Checkout started for ${money} (the order is ${o.status} now).`,
      });
      if (o.paidAt) at(o.paidAt, { type: 'order_paid', ...ids, detail: `Paid ${money}.` });
    }
    for (const r of refunds) {
      const o = byRef.get(r.paymentRef)!;
      const full = r.amountRefunded >= o.amount;
      at(r.updatedAt, {
        type: 'order_refunded',
        chart: o.chartName,
        orderId: o.id,
        licenseId: null,
        detail: `${full ? 'Refunded in full' : 'Partly refunded'}: ${formatMoney(r.amountRefunded, o.currency)} of ${formatMoney(o.amount, o.currency)}.`,
      });
    }
    for (const d of disputes) {
      const o = byRef.get(d.paymentRef)!;
      const ids = { chart: o.chartName, orderId: o.id, licenseId: null };
      at(d.createdAt, { type: 'dispute_opened', ...ids, detail: 'The buyer disputed the payment.' });
      if (d.closedAt)
        at(d.closedAt, { type: 'dispute_closed', ...ids, detail: `The dispute closed: ${d.status}.` });
    }
    for (const l of licenses) {
      const ids = { chart: l.chart, orderId: l.orderId, licenseId: l.id };
      at(l.issuedAt, {
        type: 'license_issued',
        ...ids,
        detail: `${l.orderId ? 'License issued' : 'Complimentary license granted'} for versions ${l.versionRange}.`,
      });
      if (l.revokedAt)
        at(l.revokedAt, {
          type: 'license_revoked',
          ...ids,
          detail: `Revoked (${l.reason ?? 'no reason recorded'}).${l.publisherNote ? ` Your note: ${l.publisherNote}` : ''}`,
        });
    }
    for (const m of mails) {
      const l = byLicense.get(m.subject.split('/')[0]);
      at(m.doneAt ?? m.queuedAt, {
        type: 'mail',
        chart: l?.chart ?? null,
        orderId: l?.orderId ?? null,
        licenseId: l?.id ?? null,
        detail: `License e-mail${m.kind === LICENSE_MAIL_AGAIN ? ' (sent again)' : ''} to ${m.recipient}: ${MAIL_WORDS[m.status] ?? m.status}.`,
      });
    }
    for (const p of pulls) {
      const l = byLicense.get(p.licenseId)!;
      events.push({
        at: new Date(`${p.day}T00:00:00.000Z`),
        wholeDay: true,
        type: 'pulls',
        chart: l.chart,
        orderId: l.orderId,
        licenseId: l.id,
        detail: `${p.pulls} pull${p.pulls === 1 ? '' : 's'} (${p.versions.join(', ')}).`,
      });
    }
    events.sort(
      (a, b) => b.at.getTime() - a.at.getTime() || ORDER_OF_TYPE.get(b.type)! - ORDER_OF_TYPE.get(a.type)!,
    );
    return {
      email,
      orders: orders.length,
      licenses: licenses.length,
      events: events.slice(0, MAX_TIMELINE_EVENTS),
      truncated: events.length > MAX_TIMELINE_EVENTS,
    };
  }

  /** The buyer's address: `q` itself, or the buyer of this publisher's order or license with that id. */
  private async resolve(publisherId: string, q: string): Promise<string | null> {
    if (!q) return null;
    if (!UUID.test(q)) return q.includes('@') ? q.toLowerCase() : null;
    const id = q.toLowerCase();
    const order = await this.dataSource
      .getRepository(OrderEntity)
      .findOne({ where: { id, publisherId }, select: { buyerEmail: true } });
    if (order) return order.buyerEmail;
    try {
      return (await this.licenses.requireForPublisher(publisherId, id)).buyerEmail;
    } catch {
      return null;
    }
  }

  private async licensesOf(publisherId: string, email: string): Promise<LicenseView[]> {
    const out: LicenseView[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.licenses.list(publisherId, { email, cursor, limit: 200 });
      out.push(...page.licenses);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && out.length < MAX_LICENSES);
    return out;
  }

  /** Licensed pulls per license and UTC day, with the versions pulled that day. */
  private async pullsOf(
    licenses: LicenseView[],
  ): Promise<Array<{ licenseId: string; day: string; pulls: number; versions: string[] }>> {
    const today = new Date().toISOString().slice(0, 10);
    const out: Array<{ licenseId: string; day: string; pulls: number; versions: string[] }> = [];
    for (const l of licenses) {
      const from = l.issuedAt.toISOString().slice(0, 10);
      const days = new Map<string, { pulls: number; versions: string[] }>();
      for (const r of await this.downloads.licenseSeries(l.id, from, today)) {
        const d = days.get(r.day) ?? { pulls: 0, versions: [] };
        d.pulls += r.pulls;
        d.versions.push(r.version);
        days.set(r.day, d);
      }
      for (const [day, d] of days) out.push({ licenseId: l.id, day, ...d });
    }
    return out;
  }
}
