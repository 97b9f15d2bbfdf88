import { h, Html } from '../html/jsx';
import { PageContext } from '../pages/layout';
import { ConsoleNotice } from './charts';
import { ConsoleLayout, ConsolePublisher } from './layout';

/** What the payouts page shows: the account as Stripe last reported it, or nothing under PAYOUTS=none. */
export interface ConsolePayoutState {
  status: 'not_started' | 'pending' | 'enabled' | 'restricted';
  accountId: string | null;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  transfers: string;
  currentlyDue: string[];
  deauthorized: boolean;
  payoutFailure: { at: string; code: string | null; message: string | null } | null;
  feePercent: string;
  feeFixed: string;
}

const STATUS_WORDS: Record<ConsolePayoutState['status'], string> = {
  not_started: 'Not set up: your paid charts are not on sale until you finish payout onboarding.',
  pending:
    'Onboarding not finished: Stripe still needs something from you. Your paid charts are not on sale yet.',
  enabled: 'Paid out by Stripe: your paid charts are on sale.',
  restricted:
    'Restricted: Stripe holds transfers or payouts, or the store was disconnected. Open the Stripe dashboard.',
};

export function ConsolePayoutsPage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  /** Null: this store keeps every sale (PAYOUTS=none). */
  payouts: ConsolePayoutState | null;
  notice?: ConsoleNotice;
}): Html {
  const base = `${props.ctx.basePath}/console/${props.publisher.slug}/payouts`;
  const p = props.payouts;
  return (
    <ConsoleLayout
      ctx={props.ctx}
      title="Payouts"
      publisher={props.publisher}
      section="payouts"
      notice={props.notice}
    >
      {p === null ? (
        <p>This store keeps every sale and pays its publishers itself: there is nothing to set up here.</p>
      ) : (
        <section aria-labelledby="payout-state">
          <h2 id="payout-state">Payout account</h2>
          <p id="payout-status" data-status={p.status}>
            {STATUS_WORDS[p.status]}
          </p>
          {p.accountId ? (
            <table>
              <tbody>
                <tr>
                  <th scope="row">Transfers</th>
                  <td>{p.transfers}</td>
                </tr>
                <tr>
                  <th scope="row">Payouts</th>
                  <td>{p.payoutsEnabled ? 'enabled' : 'disabled'}</td>
                </tr>
                <tr>
                  <th scope="row">Stripe still needs</th>
                  <td>{p.currentlyDue.length ? p.currentlyDue.join(', ') : 'nothing'}</td>
                </tr>
              </tbody>
            </table>
          ) : null}
          {p.payoutFailure ? (
            <p class="notice" role="alert">
              A payout failed on {p.payoutFailure.at.slice(0, 10)}
              {p.payoutFailure.message ? `: ${p.payoutFailure.message}` : '.'} Check your bank details in the
              Stripe dashboard.
            </p>
          ) : null}
          <p>
            Platform fee per sale: {p.feePercent}
            {p.feeFixed ? ` plus ${p.feeFixed}` : ''}.
          </p>
          {p.status !== 'enabled' || p.currentlyDue.length ? (
            <form method="post" action={`${base}/onboarding`}>
              <button type="submit">
                {p.accountId ? 'Continue payout onboarding' : 'Start payout onboarding'}
              </button>
            </form>
          ) : null}
          {p.accountId ? (
            <form method="post" action={`${base}/dashboard`}>
              <button type="submit" class="secondary">
                Open the Stripe dashboard
              </button>
            </form>
          ) : null}
        </section>
      )}
    </ConsoleLayout>
  );
}
