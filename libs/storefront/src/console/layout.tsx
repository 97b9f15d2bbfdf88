import { Child, Fragment, h, Html } from '../html/jsx';
import { Notice, PageContext, PageHead } from '../pages/layout';

/** The console's sections, in the order of its navigation. */
export const CONSOLE_SECTIONS = [
  ['charts', 'Charts'],
  ['orders', 'Orders'],
  ['licenses', 'Licenses'],
  ['customers', 'Customers'],
  ['analytics', 'Analytics'],
  ['payouts', 'Payouts'],
  ['tokens', 'API tokens'],
  ['audit', 'Audit log'],
  ['profile', 'Profile'],
] as const;
export type ConsoleSection = (typeof CONSOLE_SECTIONS)[number][0];

/** The publisher a console page is about. */
export interface ConsolePublisher {
  slug: string;
  displayName: string;
}

/** Every console page: the store's head and look, the publisher's sections, sign out. */
export function ConsoleLayout(props: {
  ctx: PageContext;
  title: string;
  publisher?: ConsolePublisher;
  section?: ConsoleSection;
  /** A result or refusal of the last action, above the page. */
  notice?: { text: string; error?: boolean };
  children?: Child;
}): Html {
  const base = props.ctx.basePath;
  const p = props.publisher;
  return (
    <html lang="en">
      <PageHead ctx={props.ctx} title={p ? `${props.title} · ${p.displayName} console` : props.title} />
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="site">
          <div class="bar">
            <a class="brand" href={`${base}/console`}>
              Berth console
            </a>
            {p ? (
              <span class="muted">
                {p.displayName} <code>{p.slug}</code>
              </span>
            ) : null}
            <nav aria-label="Console">
              <a href={`${base}/`}>Store</a>
              <a href={`${base}/console`}>Publishers</a>
            </nav>
            <form method="post" action={`${base}/console/sign-out`} class="inline">
              <button type="submit" class="secondary">
                Sign out
              </button>
            </form>
          </div>
          {p ? (
            <nav class="tabs console" aria-label="Sections">
              {CONSOLE_SECTIONS.map(([key, label]) => (
                <a
                  href={`${base}/console/${p.slug}/${key}`}
                  aria-current={props.section === key ? 'page' : undefined}
                >
                  {label}
                </a>
              ))}
            </nav>
          ) : null}
        </header>
        <main id="main">
          <h1>{props.title}</h1>
          {props.notice ? (
            props.notice.error ? (
              <Notice text={props.notice.text} />
            ) : (
              <p class="notice" role="status">
                {props.notice.text}
              </p>
            )
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** E-mail and password: the console's sign-in (the API's POST /v1/sessions, as a cookie session). */
export function ConsoleSignInPage(props: { ctx: PageContext; email?: string; error?: string }): Html {
  const base = props.ctx.basePath;
  return (
    <html lang="en">
      <PageHead ctx={props.ctx} title="Sign in to the console" />
      <body>
        <header class="site">
          <div class="bar">
            <a class="brand" href={`${base}/`}>
              Berth
            </a>
          </div>
        </header>
        <main id="main">
          <h1>Sign in to the publisher console</h1>
          <Notice text={props.error} />
          <form method="post" action={`${base}/console/sign-in`} class="buy narrow">
            <label for="console-email">E-mail address</label>
            <input
              id="console-email"
              type="email"
              name="email"
              required
              maxlength={320}
              autocomplete="username"
              value={props.email ?? ''}
            />
            <label for="console-password">Password</label>
            <input
              id="console-password"
              type="password"
              name="password"
              required
              maxlength={200}
              autocomplete="current-password"
            />
            <button type="submit">Sign in</button>
          </form>
          <p class="small">
            <a href={`${base}/account/forgot`}>Forgot the password?</a> New here?{' '}
            <a href={`${base}/console/sign-up`}>Create a publisher account</a>.
          </p>
        </main>
      </body>
    </html>
  );
}

/** The account's publishers, and signing out of every device. */
export function ConsoleHomePage(props: {
  ctx: PageContext;
  email: string;
  publishers: ConsolePublisher[];
  /** The account is one of the store's operators (OPERATOR_EMAILS): the marketplace page is offered. */
  operator?: boolean;
  notice?: { text: string; error?: boolean };
}): Html {
  const base = props.ctx.basePath;
  return (
    <ConsoleLayout ctx={props.ctx} title="Your publishers" notice={props.notice}>
      <p class="muted">
        Signed in as <b>{props.email}</b>.
      </p>
      {props.operator ? (
        <p>
          You operate this store: <a href={`${base}/console/operator`}>the marketplace</a> shows every
          publisher's sales, fees and payouts.
        </p>
      ) : null}
      {props.publishers.length ? (
        <ul>
          {props.publishers.map((p) => (
            <li>
              <a href={`${base}/console/${p.slug}/charts`}>{p.displayName}</a> <code>{p.slug}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p>This account has no publisher.</p>
      )}
      <h2>Sessions</h2>
      <form method="post" action={`${base}/console/sign-out-everywhere`}>
        <p>Ends every console session and every API access token of this account, this one included.</p>
        <button type="submit" class="secondary">
          Sign out everywhere
        </button>
      </form>
    </ConsoleLayout>
  );
}

/** Cursor paging links: "Next" keeps the filters of the page. */
export function NextPage(props: { href: string | null }): Html {
  return props.href ? (
    <p class="pager">
      <a href={props.href} rel="next">
        Next page
      </a>
    </p>
  ) : (
    <Fragment />
  );
}

/** A publisher's account from the browser: the API's POST /v1/accounts as a form. */
export function ConsoleSignUpPage(props: {
  ctx: PageContext;
  values?: { email: string; slug: string; displayName: string };
  error?: string;
}): Html {
  const base = props.ctx.basePath;
  const v = props.values;
  return (
    <html lang="en">
      <PageHead ctx={props.ctx} title="Sell on Berth" />
      <body>
        <header class="site">
          <div class="bar">
            <a class="brand" href={`${base}/`}>
              Berth
            </a>
          </div>
        </header>
        <main id="main">
          <h1>Sell your charts on Berth</h1>
          <Notice text={props.error} />
          <form method="post" action={`${base}/console/sign-up`} class="buy narrow">
            <label for="signup-email">E-mail address</label>
            <input
              id="signup-email"
              type="email"
              name="email"
              required
              maxlength={320}
              autocomplete="email"
              value={v?.email ?? ''}
            />
            <label for="signup-password">Password (at least 10 characters)</label>
            <input
              id="signup-password"
              type="password"
              name="password"
              required
              minlength={10}
              maxlength={256}
              autocomplete="new-password"
            />
            <label for="signup-slug">Publisher name in URLs (lower-case letters, digits, dashes)</label>
            <input id="signup-slug" type="text" name="slug" required maxlength={40} value={v?.slug ?? ''} />
            <label for="signup-name">Display name</label>
            <input
              id="signup-name"
              type="text"
              name="displayName"
              required
              maxlength={100}
              value={v?.displayName ?? ''}
            />
            <button type="submit">Create the account</button>
          </form>
          <p class="small">
            Have an account? <a href={`${base}/console/sign-in`}>Sign in</a>.
          </p>
        </main>
      </body>
    </html>
  );
}

/** After signing up: where the confirmation link went (the same words for a taken address). */
export function ConsoleCheckMailPage(props: { ctx: PageContext; email: string; needed: boolean }): Html {
  const base = props.ctx.basePath;
  return (
    <html lang="en">
      <PageHead ctx={props.ctx} title="Check your e-mail" />
      <body>
        <main id="main">
          <h1>{props.needed ? 'Check your e-mail' : 'Account created'}</h1>
          {props.needed ? (
            <p>
              We sent a link to <b>{props.email}</b>. Open it to confirm the address, then{' '}
              <a href={`${base}/console/sign-in`}>sign in</a>.
            </p>
          ) : (
            <p>
              <a href={`${base}/console/sign-in`}>Sign in</a> to publish your first chart.
            </p>
          )}
        </main>
      </body>
    </html>
  );
}
