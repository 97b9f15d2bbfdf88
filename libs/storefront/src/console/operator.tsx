import { h, Html } from '../html/jsx';
import { PageContext } from '../pages/layout';
import type { ConsoleNotice } from './charts';
import { ConsoleLayout, NextPage } from './layout';

/** One publisher and currency of the marketplace report, amounts already written out with the currency. */
export interface OperatorReportRow {
  publisher: string;
  currency: string;
  sales: number;
  gross: string;
  platformFees: string;
  refunded: string;
  openDisputes: number;
  disputed: string;
}

export interface OperatorExposureRow {
  currency: string;
  openDisputes: number;
  amount: string;
}

export interface OperatorPublisherRow {
  slug: string;
  displayName: string;
  status: 'not_started' | 'pending' | 'enabled' | 'restricted';
  currentlyDue: number;
  /** The fee its sales pay, as a person reads it. */
  fee: string;
  override: boolean;
}

/** The fee form as typed: kept on a refusal so the operator can correct it. */
export interface OperatorFeeForm {
  slug: string;
  bps: string;
  fixed: string;
}

const STATUS_WORDS: Record<OperatorPublisherRow['status'], string> = {
  not_started: 'not set up',
  pending: 'onboarding',
  enabled: 'paid out',
  restricted: 'restricted',
};

/**
 * The operator's marketplace (OPERATOR_EMAILS): sales, fees, refunds and open disputes per publisher and
 * currency, the platform's dispute exposure, each publisher's payout state and fee, and the fee override.
 */
export function ConsoleOperatorPage(props: {
  ctx: PageContext;
  /** The period as typed (YYYY-MM-DD, '' for open). */
  period: { from: string; to: string };
  rows: OperatorReportRow[];
  exposure: OperatorExposureRow[];
  /** Null: this store keeps every sale (PAYOUTS=none), so there are no payout accounts or fees. */
  publishers: OperatorPublisherRow[] | null;
  nextPublishers: string | null;
  fee?: OperatorFeeForm;
  notice?: ConsoleNotice;
}): Html {
  const base = `${props.ctx.basePath}/console/operator`;
  const fee = props.fee ?? { slug: '', bps: '', fixed: '' };
  return (
    <ConsoleLayout ctx={props.ctx} title="Marketplace" notice={props.notice}>
      <form method="get" action={base} class="filters">
        <label for="op-from">Paid from</label>
        <input id="op-from" type="date" name="from" value={props.period.from} />
        <label for="op-to">through</label>
        <input id="op-to" type="date" name="to" value={props.period.to} />
        <button type="submit" class="secondary">
          Show
        </button>
      </form>
      <section aria-labelledby="op-sales">
        <h2 id="op-sales">Sales per publisher</h2>
        {props.rows.length ? (
          <table id="marketplace-report">
            <thead>
              <tr>
                <th scope="col">Publisher</th>
                <th scope="col">Currency</th>
                <th scope="col">Sales</th>
                <th scope="col">Gross</th>
                <th scope="col">Platform fees</th>
                <th scope="col">Refunded</th>
                <th scope="col">Open disputes</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr>
                  <td>
                    <code>{r.publisher}</code>
                  </td>
                  <td>{r.currency.toUpperCase()}</td>
                  <td>{String(r.sales)}</td>
                  <td>{r.gross}</td>
                  <td>{r.platformFees}</td>
                  <td>{r.refunded}</td>
                  <td>{r.openDisputes ? `${r.openDisputes} (${r.disputed})` : '0'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p>No paid orders in this period.</p>
        )}
      </section>
      <section aria-labelledby="op-exposure">
        <h2 id="op-exposure">Dispute exposure</h2>
        <p class="muted">
          Open disputes on charges paid out to publishers: the platform carries their losses until they close.
        </p>
        {props.exposure.length ? (
          <table id="dispute-exposure">
            <tbody>
              {props.exposure.map((e) => (
                <tr>
                  <th scope="row">{e.currency.toUpperCase()}</th>
                  <td>
                    {e.amount} in {String(e.openDisputes)} dispute{e.openDisputes === 1 ? '' : 's'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p>None.</p>
        )}
      </section>
      {props.publishers === null ? (
        <p>This store keeps every sale (PAYOUTS=none): publishers have no payout accounts or fees.</p>
      ) : (
        <section aria-labelledby="op-publishers">
          <h2 id="op-publishers">Publishers</h2>
          <table id="publisher-payouts">
            <thead>
              <tr>
                <th scope="col">Publisher</th>
                <th scope="col">Payouts</th>
                <th scope="col">Platform fee</th>
                <th scope="col"></th>
              </tr>
            </thead>
            <tbody>
              {props.publishers.map((p) => (
                <tr data-publisher={p.slug}>
                  <td>
                    {p.displayName} <code>{p.slug}</code>
                  </td>
                  <td>
                    {STATUS_WORDS[p.status]}
                    {p.currentlyDue ? ` (Stripe needs ${p.currentlyDue} more)` : ''}
                  </td>
                  <td>
                    {p.fee}
                    {p.override ? ' (set for this publisher)' : ''}
                  </td>
                  <td>
                    {p.override ? (
                      <form method="post" action={`${base}/fee/clear`} class="inline">
                        <input type="hidden" name="slug" value={p.slug} />
                        <button type="submit" class="secondary">
                          Use the store's fee
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <NextPage
            href={
              props.nextPublishers
                ? `${base}?${new URLSearchParams({ ...props.period, after: props.nextPublishers }).toString()}`
                : null
            }
          />
          <h3>Set a publisher's fee</h3>
          <form method="post" action={`${base}/fee`} class="buy narrow">
            <label for="fee-slug">Publisher</label>
            <input id="fee-slug" type="text" name="slug" required maxlength={40} value={fee.slug} />
            <label for="fee-bps">Basis points of each sale (500 = 5 %)</label>
            <input
              id="fee-bps"
              name="bps"
              type="number"
              min={0}
              max={10000}
              step={1}
              required
              value={fee.bps}
            />
            <label for="fee-fixed">Fixed fee per currency, in its smallest unit (optional)</label>
            <input
              id="fee-fixed"
              type="text"
              name="fixed"
              maxlength={200}
              placeholder="usd=30 eur=25"
              value={fee.fixed}
            />
            <button type="submit">Set the fee</button>
          </form>
          <p class="small">Applies to checkouts opened from now on; orders already paid keep their fee.</p>
        </section>
      )}
    </ConsoleLayout>
  );
}
