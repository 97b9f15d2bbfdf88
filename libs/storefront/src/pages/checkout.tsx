import { h, Html } from '../html/jsx';
import { CopyBlock, Layout, PageContext } from './layout';

export interface LicenseShown {
  chart: string;
  key: string;
  coverage: string;
  addCommand: string;
  installCommand: string;
  /** The chart over OCI: `helm registry login` and `helm install oci://…`. */
  ociInstallCommand: string;
  /** `kubectl create secret docker-registry …` for the chart's images. */
  pullSecretCommand: string;
}

/** The checkout success page once paid: the key and the commands, shown to the buyer alone. */
export function SuccessPage(props: { ctx: PageContext; license: LicenseShown }): Html {
  const l = props.license;
  return (
    <Layout ctx={props.ctx} title={`License for ${l.chart}`}>
      <h1>Thank you: {l.chart} is yours</h1>
      <p>Your license covers {l.coverage}</p>
      <CopyBlock id="key" label="License key" text={l.key} />
      <CopyBlock id="add" label="Add the Helm repository" text={l.addCommand} />
      <CopyBlock id="install" label="Install" text={l.installCommand} />
      <CopyBlock id="oci" label="Or install from the OCI registry" text={l.ociInstallCommand} />
      <CopyBlock
        id="pull-secret"
        label="Image pull secret for the chart's images"
        text={l.pullSecretCommand}
      />
      <p class="hint">
        Name the secret in the release's <code>imagePullSecrets</code>. Revoking a license stops new pulls;
        images a node already holds stay there.
      </p>
      <p class="notice">
        Keep the key secret: it is your password to the repository. It is also on its way to you by e-mail.
      </p>
    </Layout>
  );
}

/** Paid but not yet confirmed: the page reloads itself (a meta refresh, no script). */
export function PendingPage(props: { ctx: PageContext; chart: string }): Html {
  return (
    <Layout ctx={props.ctx} title="Payment processing" refreshSeconds={3}>
      <h1>Payment processing…</h1>
      <p>
        Your payment for <b>{props.chart}</b> is being confirmed. This page refreshes by itself.
      </p>
    </Layout>
  );
}

/** The local provider's pay page: no money moves; a button completes the payment. */
export function LocalPayPage(props: {
  ctx: PageContext;
  chart: string;
  price: string;
  action: string;
}): Html {
  return (
    <Layout ctx={props.ctx} title="Pay (local test payment)">
      <h1>{props.chart}</h1>
      <p>
        Price: <b>{props.price}</b>
      </p>
      <p class="notice">
        This store uses the local payment provider: no money moves. Set STRIPE_SECRET_KEY to take real
        payments.
      </p>
      <form method="post" action={props.action}>
        <button type="submit">Pay {props.price}</button>
      </form>
    </Layout>
  );
}

/** PAYOUTS=connect without Stripe: the local stand-in for Stripe's onboarding; a button makes the publisher payable. */
export function LocalOnboardingPage(props: { ctx: PageContext; action: string }): Html {
  return (
    <Layout ctx={props.ctx} title="Payout onboarding (local)">
      <h1>Payout onboarding</h1>
      <p class="notice">
        This store pays publishers out without Stripe (PAYOUTS=connect, no STRIPE_SECRET_KEY): no money moves,
        and finishing here makes your paid charts available for sale at once.
      </p>
      <form method="post" action={props.action}>
        <button type="submit">Finish onboarding</button>
      </form>
    </Layout>
  );
}
