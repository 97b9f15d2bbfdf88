import { h, Html } from '../html/jsx';
import { CopyBlock, EmailField, Layout, Notice, PageContext } from './layout';

/** One license as its holder sees it on "My licenses". */
export interface MyLicenseRow {
  id: string;
  publisher: string;
  chart: string;
  status: 'active' | 'suspended' | 'revoked';
  /** Why it is not active, in words. */
  statusNote: string | null;
  /** What it covers, as a sentence ("versions >=1.0.0 <2.0.0-0, including future releases."). */
  coverage: string;
  issuedOn: string;
  addCommand: string;
  installCommand: string;
  /** The chart over OCI: `helm registry login` and `helm install oci://…`. */
  ociInstallCommand: string;
  /** `kubectl create secret docker-registry …` for the chart's images. */
  pullSecretCommand: string;
}

/** A key shown on request (or just rotated): shown once in this answer, never cached. */
export interface KeyShown {
  licenseId: string;
  key: string;
  rotated: boolean;
}

const STATUS_LABEL = { active: 'Active', suspended: 'Suspended', revoked: 'Revoked' } as const;

export function MyLicensesPage(props: {
  ctx: PageContext;
  email: string;
  licenses: MyLicenseRow[];
  shown?: KeyShown;
}): Html {
  const base = props.ctx.basePath;
  return (
    <Layout ctx={props.ctx} title="My licenses">
      <h1>My licenses</h1>
      <p class="muted">
        Signed in as <b>{props.email}</b>.
      </p>
      <form method="post" action={`${base}/my/sign-out`}>
        <button type="submit" class="secondary">
          Sign out
        </button>
      </form>
      {props.licenses.length === 0 ? <p>No licenses were bought with this address.</p> : null}
      {props.licenses.map((l) => (
        <section class="license" aria-labelledby={`lic-${l.id}`}>
          <h2 id={`lic-${l.id}`}>
            <a href={`${base}/charts/${l.publisher}/${l.chart}`}>
              {l.publisher}/{l.chart}
            </a>{' '}
            <span class={`badge status-${l.status}`}>{STATUS_LABEL[l.status]}</span>
          </h2>
          {l.statusNote ? <p class="notice">{l.statusNote}</p> : null}
          <p>
            Covers {l.coverage} Issued {l.issuedOn}. License id (your Helm username): <code>{l.id}</code>
          </p>
          {props.shown?.licenseId === l.id ? (
            <div>
              {props.shown.rotated ? (
                <p class="notice" role="status">
                  A new key was made. The old key no longer works: update it wherever it is used.
                </p>
              ) : null}
              <CopyBlock id={`key-${l.id}`} label="License key" text={props.shown.key} />
            </div>
          ) : null}
          {l.status !== 'revoked' ? (
            <div>
              <CopyBlock id={`add-${l.id}`} label="Add the Helm repository" text={l.addCommand} />
              <CopyBlock id={`install-${l.id}`} label="Install" text={l.installCommand} />
              <CopyBlock
                id={`oci-${l.id}`}
                label="Or install from the OCI registry"
                text={l.ociInstallCommand}
              />
              <CopyBlock
                id={`pull-secret-${l.id}`}
                label="Image pull secret (the key saved in license-key.txt)"
                text={l.pullSecretCommand}
              />
              <div class="actions">
                <form method="post" action={`${base}/my/licenses/${l.id}/key`}>
                  <button type="submit">Show key</button>
                </form>
                <form method="post" action={`${base}/my/licenses/${l.id}/rotate`}>
                  <button type="submit" class="secondary">
                    Rotate key
                  </button>
                </form>
              </div>
            </div>
          ) : null}
        </section>
      ))}
    </Layout>
  );
}

/** Asks for a sign-in link: the entry to "My licenses" for a buyer without a session. */
export function SignInPage(props: {
  ctx: PageContext;
  email?: string;
  error?: string;
  /** Shown above the form (a used or expired link, say). */
  notice?: string;
}): Html {
  const base = props.ctx.basePath;
  return (
    <Layout ctx={props.ctx} title="My licenses: sign in">
      <h1>My licenses</h1>
      <Notice text={props.notice} />
      <p>
        Enter the e-mail address you bought with. If it holds any license, we send it a sign-in link that
        works once, for 15 minutes.
      </p>
      <form method="post" action={`${base}/my/sign-in/link`} class="buy">
        <EmailField id="signin-email" label="E-mail address" value={props.email} error={props.error} />
        <button type="submit">E-mail me a sign-in link</button>
      </form>
    </Layout>
  );
}

/** After asking: the same words whether or not the address bought anything. */
export function LinkSentPage(props: { ctx: PageContext }): Html {
  return (
    <Layout ctx={props.ctx} title="Check your e-mail">
      <h1>Check your e-mail</h1>
      <p>
        If this address bought a license here, a sign-in link is on its way. It works once, for 15 minutes.
      </p>
    </Layout>
  );
}

/**
 * What an e-mailed link opens: one button that signs in. A link is used up by the POST, not by opening
 * it, so a mail scanner that follows links does not spend it.
 */
export function ConfirmSignInPage(props: { ctx: PageContext; token: string }): Html {
  const base = props.ctx.basePath;
  return (
    <Layout ctx={props.ctx} title="Sign in">
      <h1>Sign in to My licenses</h1>
      <form method="post" action={`${base}/my/sign-in`}>
        <input type="hidden" name="token" value={props.token} />
        <button type="submit">Continue to My licenses</button>
      </form>
    </Layout>
  );
}
