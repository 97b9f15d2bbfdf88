import { Fragment, h, Html } from '../html/jsx';
import { CopyBlock, PageContext } from '../pages/layout';
import type { ConsoleNotice } from './charts';
import { ConsoleLayout, ConsolePublisher, NextPage } from './layout';

/** The list filters as typed (GET form fields); '' when not set. */
export interface ConsoleListFilters {
  status: string;
  chart: string;
  email: string;
  /** Dates (YYYY-MM-DD) or ISO 8601 date-times. */
  from: string;
  to: string;
}

export interface ConsoleOrderTotalsRow {
  currency: string;
  paidOrders: number;
  gross: string;
  refunded: string;
  net: string;
  openDisputes: number;
  disputed: string;
}

export interface ConsoleOrderRow {
  id: string;
  created: string;
  chart: string;
  buyerEmail: string;
  amount: string;
  refunded: string | null;
  status: string;
  provider: string;
  /** A paid order: the Refund button is offered. */
  refundable: boolean;
}

export interface ConsoleLicenseRow {
  id: string;
  buyerEmail: string;
  chart: string;
  status: string;
  /** What it covers, as its holder reads it. */
  coverage: string;
  issued: string;
  orderId: string | null;
  reason: string | null;
  note: string | null;
  pulls: number;
  firstPull: string | null;
  lastPull: string | null;
  distinctClients30d: number;
  sharingSuspected: boolean;
  /** A complimentary license the publisher revoked. */
  reinstatable: boolean;
}

export interface ConsoleGrantForm {
  chart: string;
  email: string;
  versionRange: string;
}

export interface ConsoleTimelineRow {
  when: string;
  type: string;
  chart: string | null;
  orderId: string | null;
  licenseId: string | null;
  detail: string;
}

const ORDER_STATUSES = ['pending', 'paid', 'failed', 'expired', 'refunded', 'disputed'];
const LICENSE_STATUSES = ['active', 'suspended', 'revoked'];
const TYPE_WORDS: Record<string, string> = {
  order_created: 'Order',
  order_paid: 'Paid',
  order_refunded: 'Refund',
  dispute_opened: 'Dispute',
  dispute_closed: 'Dispute closed',
  license_issued: 'License',
  license_revoked: 'Revoked',
  mail: 'E-mail',
  pulls: 'Pulls',
};

/** The GET form of a list's filters: submitting it starts again at the first page. */
function Filters(props: { action: string; filters: ConsoleListFilters; statuses: string[] }): Html {
  const f = props.filters;
  return (
    <form method="get" action={props.action} class="filters" role="search">
      <label>
        Status
        <select name="status">
          <option value="" selected={f.status === ''}>
            Any
          </option>
          {props.statuses.map((s) => (
            <option value={s} selected={f.status === s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Chart
        <input type="text" name="chart" maxlength={63} value={f.chart} />
      </label>
      <label>
        Buyer e-mail
        <input type="email" name="email" maxlength={320} value={f.email} />
      </label>
      <label>
        From (inclusive)
        <input type="date" name="from" value={f.from} />
      </label>
      <label>
        Before (exclusive)
        <input type="date" name="to" value={f.to} />
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}

export function ConsoleOrdersPage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  filters: ConsoleListFilters;
  totals: ConsoleOrderTotalsRow[];
  orders: ConsoleOrderRow[];
  /** The same filters, for the CSV link. */
  query: string;
  nextHref: string | null;
  notice?: ConsoleNotice;
}): Html {
  const base = `${props.ctx.basePath}/console/${props.publisher.slug}`;
  return (
    <ConsoleLayout
      ctx={props.ctx}
      title="Orders"
      publisher={props.publisher}
      section="orders"
      notice={props.notice}
    >
      <Filters action={`${base}/orders`} filters={props.filters} statuses={ORDER_STATUSES} />
      <p>
        <a href={`${base}/orders/export.csv${props.query ? `?${props.query}` : ''}`} download>
          Download CSV
        </a>{' '}
        <span class="muted small">(every order these filters select)</span>
      </p>
      <h2>Totals</h2>
      {props.totals.length ? (
        <table id="totals">
          <thead>
            <tr>
              <th scope="col">Currency</th>
              <th scope="col">Paid orders</th>
              <th scope="col">Gross</th>
              <th scope="col">Refunded</th>
              <th scope="col">Net</th>
              <th scope="col">Open disputes</th>
            </tr>
          </thead>
          <tbody>
            {props.totals.map((t) => (
              <tr>
                <td>{t.currency.toUpperCase()}</td>
                <td>{t.paidOrders}</td>
                <td>{t.gross}</td>
                <td>{t.refunded}</td>
                <td>{t.net}</td>
                <td>{t.openDisputes ? `${t.openDisputes} (${t.disputed})` : '0'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">No order matches.</p>
      )}
      <h2>Orders</h2>
      {props.orders.length ? (
        <table id="orders">
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Order</th>
              <th scope="col">Chart</th>
              <th scope="col">Buyer</th>
              <th scope="col">Amount</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.orders.map((o) => (
              <tr>
                <td>{o.created}</td>
                <td>
                  <a href={`${base}/customers?q=${encodeURIComponent(o.id)}`}>
                    <code>{o.id.slice(0, 8)}</code>
                  </a>
                </td>
                <td>{o.chart}</td>
                <td>{o.buyerEmail}</td>
                <td>
                  {o.amount}
                  {o.refunded ? <span class="muted small"> (refunded {o.refunded})</span> : null}
                </td>
                <td>{o.status}</td>
                <td>
                  {o.refundable ? (
                    <form method="post" action={`${base}/orders/${o.id}/refund`} class="inline">
                      <button type="submit" class="secondary" aria-label={`Refund order ${o.id}`}>
                        Refund
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No order matches these filters.</p>
      )}
      <NextPage href={props.nextHref} />
    </ConsoleLayout>
  );
}

export function ConsoleLicensesPage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  filters: ConsoleListFilters;
  licenses: ConsoleLicenseRow[];
  nextHref: string | null;
  /** The charts a license can be granted for. */
  charts: string[];
  grant: ConsoleGrantForm;
  notice?: ConsoleNotice;
}): Html {
  const base = `${props.ctx.basePath}/console/${props.publisher.slug}`;
  const g = props.grant;
  return (
    <ConsoleLayout
      ctx={props.ctx}
      title="Licenses"
      publisher={props.publisher}
      section="licenses"
      notice={props.notice}
    >
      <Filters action={`${base}/licenses`} filters={props.filters} statuses={LICENSE_STATUSES} />
      {props.licenses.length ? (
        <table id="licenses">
          <thead>
            <tr>
              <th scope="col">Buyer</th>
              <th scope="col">Chart</th>
              <th scope="col">Status</th>
              <th scope="col">Covers</th>
              <th scope="col">Pulls</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.licenses.map((l) => (
              <tr id={`license-${l.id}`}>
                <td>
                  <a href={`${base}/customers?q=${encodeURIComponent(l.id)}`}>{l.buyerEmail}</a>
                  <br />
                  <span class="muted small">
                    {l.orderId ? 'Bought' : 'Complimentary'}, issued {l.issued}
                  </span>
                </td>
                <td>{l.chart}</td>
                <td>
                  <span class={`badge status-${l.status}`}>{l.status}</span>
                  {l.reason ? <span class="muted small"> ({l.reason})</span> : null}
                  {l.note ? (
                    <Fragment>
                      <br />
                      <span class="small">Note: {l.note}</span>
                    </Fragment>
                  ) : null}
                </td>
                <td>{l.coverage}</td>
                <td>
                  {l.pulls}
                  {l.firstPull ? (
                    <span class="small">
                      <br />
                      first {l.firstPull}, last {l.lastPull}
                    </span>
                  ) : null}
                  <br />
                  <span class="small">{l.distinctClients30d} distinct clients in 30 days</span>
                  {l.sharingSuspected ? (
                    <Fragment>
                      <br />
                      <strong class="badge status-revoked">Possible key sharing</strong>
                    </Fragment>
                  ) : null}
                </td>
                <td>
                  {l.status !== 'revoked' ? (
                    <Fragment>
                      <form method="post" action={`${base}/licenses/${l.id}/revoke`}>
                        <label for={`note-${l.id}`} class="small">
                          Reason the holder sees (optional)
                        </label>
                        <input id={`note-${l.id}`} type="text" name="note" maxlength={300} />
                        <button type="submit" class="secondary" aria-label={`Revoke license ${l.id}`}>
                          Revoke
                        </button>
                      </form>
                      <form method="post" action={`${base}/licenses/${l.id}/resend`} class="inline">
                        <button
                          type="submit"
                          class="secondary"
                          aria-label={`Resend e-mail for license ${l.id}`}
                        >
                          Resend e-mail
                        </button>
                      </form>
                    </Fragment>
                  ) : null}
                  {l.reinstatable ? (
                    <form method="post" action={`${base}/licenses/${l.id}/reinstate`} class="inline">
                      <button type="submit" class="secondary" aria-label={`Reinstate license ${l.id}`}>
                        Reinstate
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No license matches these filters.</p>
      )}
      <NextPage href={props.nextHref} />
      <h2>Grant a complimentary license</h2>
      <form method="post" action={`${base}/licenses/grant`} class="buy narrow">
        <label for="grant-chart">Chart</label>
        <select id="grant-chart" name="chart" required>
          {props.charts.map((c) => (
            <option value={c} selected={c === g.chart}>
              {c}
            </option>
          ))}
        </select>
        <label for="grant-email">Holder's e-mail address</label>
        <input id="grant-email" type="email" name="email" required maxlength={320} value={g.email} />
        <label for="grant-range">
          Version range (optional; default: the listing's update policy from today)
        </label>
        <input id="grant-range" type="text" name="versionRange" maxlength={255} value={g.versionRange} />
        <button type="submit">Grant</button>
      </form>
    </ConsoleLayout>
  );
}

/** After a grant: the key, this once (it is mailed to the holder too, and never shown here again). */
export function ConsoleGrantedPage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  license: { id: string; chart: string; buyerEmail: string; coverage: string; key: string };
}): Html {
  const base = `${props.ctx.basePath}/console/${props.publisher.slug}`;
  const l = props.license;
  return (
    <ConsoleLayout ctx={props.ctx} title="License granted" publisher={props.publisher} section="licenses">
      <p>
        A license for <b>{l.chart}</b> was granted to <b>{l.buyerEmail}</b>; it covers {l.coverage} The holder
        gets it by e-mail too.
      </p>
      <p class="notice">This key is shown only once: copy it now if you hand it over yourself.</p>
      <CopyBlock id="license-id" label="License id" text={l.id} />
      <CopyBlock id="key" label="License key" text={l.key} />
      <p>
        <a href={`${base}/licenses`}>Back to the licenses</a>
      </p>
    </ConsoleLayout>
  );
}

export function ConsoleCustomersPage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  q: string;
  customer: { email: string; orders: number; licenses: number; truncated: boolean } | null;
  events: ConsoleTimelineRow[];
  notice?: ConsoleNotice;
}): Html {
  const base = `${props.ctx.basePath}/console/${props.publisher.slug}`;
  const c = props.customer;
  return (
    <ConsoleLayout
      ctx={props.ctx}
      title="Customers"
      publisher={props.publisher}
      section="customers"
      notice={props.notice}
    >
      <form method="get" action={`${base}/customers`} class="filters" role="search">
        <label>
          E-mail address, order id or license id
          <input type="search" name="q" maxlength={320} required value={props.q} />
        </label>
        <button type="submit">Look up</button>
      </form>
      {c ? (
        <Fragment>
          <h2>{c.email}</h2>
          <p>
            {c.orders} order{c.orders === 1 ? '' : 's'}, {c.licenses} license{c.licenses === 1 ? '' : 's'}.{' '}
            <a href={`${base}/orders?email=${encodeURIComponent(c.email)}`}>Orders</a> ·{' '}
            <a href={`${base}/licenses?email=${encodeURIComponent(c.email)}`}>Licenses</a>
          </p>
          {props.events.length ? (
            <table id="timeline">
              <thead>
                <tr>
                  <th scope="col">When (UTC)</th>
                  <th scope="col">What</th>
                  <th scope="col">Chart</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {props.events.map((e) => (
                  <tr class={`event-${e.type}`}>
                    <td>{e.when}</td>
                    <td>{TYPE_WORDS[e.type] ?? e.type}</td>
                    <td>{e.chart ?? '—'}</td>
                    <td>
                      {e.detail}
                      {e.orderId ? (
                        <span class="muted small">
                          {' '}
                          order <code>{e.orderId.slice(0, 8)}</code>
                        </span>
                      ) : null}
                      {e.licenseId ? (
                        <span class="muted small">
                          {' '}
                          license <code>{e.licenseId.slice(0, 8)}</code>
                        </span>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {c.truncated ? <p class="muted">Older events are left off.</p> : null}
        </Fragment>
      ) : null}
    </ConsoleLayout>
  );
}
