import { ICON_ASSET, SCRIPT_ASSET, STYLESHEET_ASSET } from '../assets';
import { Child, Fragment, h, Html, renderDocument } from '../html/jsx';

/** What every page needs from the request: where the store is mounted (PUBLIC_URL's path part). */
export interface PageContext {
  /** "" or e.g. "/store": every link and form of a page starts with it. */
  basePath: string;
  /** The store's public URL, for the commands a page shows. */
  publicUrl: string;
}

export function Layout(props: {
  ctx: PageContext;
  title: string;
  description?: string;
  /** The search box's current words. */
  q?: string;
  /** Reload the page after this many seconds (a meta refresh: no script needed). */
  refreshSeconds?: number;
  children?: Child;
}): Html {
  const base = props.ctx.basePath;
  return (
    <html lang="en">
      <PageHead
        ctx={props.ctx}
        title={props.title}
        description={props.description}
        refreshSeconds={props.refreshSeconds}
      />
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="site">
          <div class="bar">
            <a class="brand" href={`${base}/`}>
              Berth
            </a>
            <form method="get" action={`${base}/charts`} role="search">
              <label class="visually-hidden" for="site-q">
                Search charts
              </label>
              <input id="site-q" type="search" name="q" value={props.q ?? ''} placeholder="Search charts" />
              <button type="submit">Search</button>
            </form>
            <nav aria-label="Store">
              <a href={`${base}/charts`}>All charts</a>
              <a href={`${base}/my/licenses`}>My licenses</a>
            </nav>
          </div>
        </header>
        <main id="main">{props.children}</main>
        <footer class="site">
          <p>Helm charts and the software they run, bought once. Install with the stock Helm client.</p>
        </footer>
      </body>
    </html>
  );
}

/** The head of every page, the storefront's and the console's: one stylesheet, one script, no inline code. */
export function PageHead(props: {
  ctx: PageContext;
  title: string;
  description?: string;
  refreshSeconds?: number;
}): Html {
  const base = props.ctx.basePath;
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      {props.refreshSeconds ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : null}
      <title>{props.title === 'Berth' ? 'Berth' : `${props.title} · Berth`}</title>
      {props.description ? <meta name="description" content={props.description.slice(0, 300)} /> : null}
      <link rel="icon" type="image/svg+xml" href={`${base}${ICON_ASSET.path}`} />
      <link rel="stylesheet" href={`${base}${STYLESHEET_ASSET.path}`} />
      <script src={`${base}${SCRIPT_ASSET.path}`} defer></script>
    </head>
  );
}

export const renderPage = (root: Html): string => renderDocument(root);

/** A block of text with a copy button (shown only when the script runs). */
export function CopyBlock(props: { id: string; label: string; text: string }): Html {
  return (
    <div>
      <h3 id={`${props.id}-label`}>{props.label}</h3>
      <div class="copy">
        <pre class="wrap" id={props.id} aria-labelledby={`${props.id}-label`}>
          {props.text}
        </pre>
        <button type="button" class="secondary" data-copy={props.id} hidden>
          Copy
        </button>
      </div>
    </div>
  );
}

/** A refusal or warning above a form, announced to screen readers. */
export function Notice(props: { text?: string }): Html | null {
  return props.text ? (
    <p class="notice error" role="alert">
      {props.text}
    </p>
  ) : null;
}

/** An e-mail address input with its label and, after a refused post, the reason tied to it. */
export function EmailField(props: { id: string; label: string; value?: string; error?: string }): Html {
  const errorId = `${props.id}-error`;
  return (
    <Fragment>
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="email"
        name="email"
        required
        maxlength={320}
        autocomplete="email"
        value={props.value ?? ''}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? errorId : undefined}
      />
      {props.error ? (
        <p id={errorId} class="field-error" role="alert">
          {props.error}
        </p>
      ) : null}
    </Fragment>
  );
}
