import { Fragment, h, Html } from '../html/jsx';
import { PageContext } from '../pages/layout';
import { ConsoleNotice } from './charts';
import { ConsoleLayout, ConsolePublisher, NextPage } from './layout';

export interface ConsoleTokenRow {
  id: string;
  name: string;
  scopes: string[];
  created: string;
  lastUsed: string | null;
  revoked: string | null;
}

/** The create form as typed (after a refusal) or blank. */
export interface ConsoleTokenForm {
  name: string;
  scopes: string[];
}

const when = (iso: string) => iso.slice(0, 16).replace('T', ' ');

/** API tokens: the list (never a secret), a new one shown once, revoking. */
export function ConsoleTokensPage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  tokens: ConsoleTokenRow[];
  /** Every scope a token may carry. */
  scopes: readonly string[];
  form: ConsoleTokenForm;
  /** The token just created: its secret, shown on this answer only. */
  created?: { name: string; token: string };
  notice?: ConsoleNotice;
}): Html {
  const base = `${props.ctx.basePath}/console/${props.publisher.slug}/tokens`;
  return (
    <ConsoleLayout
      ctx={props.ctx}
      title="API tokens"
      publisher={props.publisher}
      section="tokens"
      notice={props.notice}
    >
      {props.created ? (
        <section class="key" aria-labelledby="new-token">
          <h2 id="new-token">New token: {props.created.name}</h2>
          <p>Copy it now: it is shown this once, and only its hash is kept.</p>
          <p>
            <code class="secret" id="new-token-value">
              {props.created.token}
            </code>
          </p>
        </section>
      ) : null}
      {props.tokens.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {props.tokens.map((t) => (
              <tr>
                <td>{t.name}</td>
                <td>{t.scopes.join(' ')}</td>
                <td>{when(t.created)}</td>
                <td>{t.lastUsed ? when(t.lastUsed) : 'Never'}</td>
                <td>
                  {t.revoked ? (
                    `Revoked ${when(t.revoked)}`
                  ) : (
                    <form method="post" action={`${base}/${encodeURIComponent(t.id)}/revoke`}>
                      <button type="submit" class="secondary" aria-label={`Revoke ${t.name}`}>
                        Revoke
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No API token yet.</p>
      )}
      <h2>Create a token</h2>
      <form method="post" action={base} class="buy narrow">
        <label for="token-name">Name (where it is used, like "ci")</label>
        <input id="token-name" type="text" name="name" required maxlength={100} value={props.form.name} />
        <fieldset>
          <legend>Scopes</legend>
          {props.scopes.map((s) => (
            <label class="choice">
              <input type="checkbox" name="scopes" value={s} checked={props.form.scopes.includes(s)} /> {s}
            </label>
          ))}
        </fieldset>
        <button type="submit">Create token</button>
      </form>
    </ConsoleLayout>
  );
}

export interface ConsoleAnalyticsFilter {
  from: string;
  to: string;
  chart: string;
  license: string;
}

export interface ConsoleAnalyticsReport {
  from: string;
  to: string;
  pulls: Array<{ day: string; chart: string; version: string; pulls: number }>;
  indexFetches: Array<{ day: string; audience: string; fetches: number }>;
  imagePulls: Array<{ day: string; chart: string; version: string; pulls: number }>;
}

function sums<K>(rows: Array<{ key: K; n: number }>): Array<{ key: K; n: number }> {
  const out = new Map<string, { key: K; n: number }>();
  for (const r of rows) {
    const id = JSON.stringify(r.key);
    const seen = out.get(id);
    if (seen) seen.n += r.n;
    else out.set(id, { key: r.key, n: r.n });
  }
  return [...out.values()];
}

/** A count with a bar against the largest of its table (a `<meter>`: no inline style). */
function Count(props: { n: number; max: number }): Html {
  return (
    <Fragment>
      {props.n}{' '}
      <meter min={0} max={Math.max(1, props.max)} value={props.n} aria-hidden="true">
        {props.n}
      </meter>
    </Fragment>
  );
}

/** Downloads per day, per chart and version, and index fetches apart, with the API's filters. */
export function ConsoleAnalyticsPage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  filter: ConsoleAnalyticsFilter;
  charts: string[];
  /** Null when the filter was refused (the notice says why). */
  report: ConsoleAnalyticsReport | null;
  notice?: ConsoleNotice;
}): Html {
  const f = props.filter;
  const r = props.report;
  const perDay = r ? sums(r.pulls.map((p) => ({ key: p.day, n: p.pulls }))) : [];
  const byVersion = (rows: ConsoleAnalyticsReport['pulls']) =>
    sums(rows.map((p) => ({ key: [p.chart, p.version] as const, n: p.pulls }))).sort(
      (a, b) => a.key[0].localeCompare(b.key[0]) || a.key[1].localeCompare(b.key[1]),
    );
  const perVersion = r ? byVersion(r.pulls) : [];
  const images = r ? byVersion(r.imagePulls) : [];
  const maxImages = Math.max(0, ...images.map((d) => d.n));
  const fetches = r ? sums(r.indexFetches.map((x) => ({ key: x.day, n: x.fetches }))) : [];
  const total = perDay.reduce((a, d) => a + d.n, 0);
  const maxDay = Math.max(0, ...perDay.map((d) => d.n));
  const maxVersion = Math.max(0, ...perVersion.map((d) => d.n));
  const maxFetches = Math.max(0, ...fetches.map((d) => d.n));
  return (
    <ConsoleLayout
      ctx={props.ctx}
      title="Analytics"
      publisher={props.publisher}
      section="analytics"
      notice={props.notice}
    >
      <form
        method="get"
        action={`${props.ctx.basePath}/console/${props.publisher.slug}/analytics`}
        class="filters"
      >
        <label for="an-from">From</label>
        <input id="an-from" type="date" name="from" value={f.from} />
        <label for="an-to">To</label>
        <input id="an-to" type="date" name="to" value={f.to} />
        <label for="an-chart">Chart</label>
        <select id="an-chart" name="chart">
          <option value="">All charts</option>
          {props.charts.map((c) => (
            <option value={c} selected={c === f.chart}>
              {c}
            </option>
          ))}
        </select>
        <label for="an-license">License id</label>
        <input id="an-license" type="text" name="license" maxlength={36} value={f.license} />
        <button type="submit">Show</button>
      </form>
      {r ? (
        <Fragment>
          <p>
            {total} download{total === 1 ? '' : 's'} of chart archives from {r.from} to {r.to}
            {f.license ? ` with license ${f.license}` : ''}.
          </p>
          <h2>Per day</h2>
          {perDay.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Downloads</th>
                </tr>
              </thead>
              <tbody>
                {perDay.map((d) => (
                  <tr>
                    <td>{d.key}</td>
                    <td>
                      <Count n={d.n} max={maxDay} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">No downloads in this range.</p>
          )}
          <h2>Per chart and version</h2>
          {perVersion.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Chart</th>
                  <th scope="col">Version</th>
                  <th scope="col">Downloads</th>
                </tr>
              </thead>
              <tbody>
                {perVersion.map((v) => (
                  <tr>
                    <td>{v.key[0]}</td>
                    <td>{v.key[1]}</td>
                    <td>
                      <Count n={v.n} max={maxVersion} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">No downloads in this range.</p>
          )}
          <h2>Image pulls</h2>
          <p class="muted">
            Pulls of the container images a chart version's release names, from this store's registry: every
            node that runs a release pulls them, so they count nodes rather than installs.
          </p>
          {images.length ? (
            <table id="image-pulls">
              <thead>
                <tr>
                  <th scope="col">Chart</th>
                  <th scope="col">Version</th>
                  <th scope="col">Image pulls</th>
                </tr>
              </thead>
              <tbody>
                {images.map((v) => (
                  <tr>
                    <td>{v.key[0]}</td>
                    <td>{v.key[1]}</td>
                    <td>
                      <Count n={v.n} max={maxImages} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">No image pulls in this range.</p>
          )}
          <h2>Index fetches</h2>
          <p class="muted">
            <code>helm repo add</code> and <code>helm repo update</code> read the index: counted apart from
            downloads
            {f.chart || f.license ? ', for the whole repository only (not with a chart or license)' : ''}.
          </p>
          {fetches.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Fetches</th>
                </tr>
              </thead>
              <tbody>
                {fetches.map((d) => (
                  <tr>
                    <td>{d.key}</td>
                    <td>
                      <Count n={d.n} max={maxFetches} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">No index fetches counted.</p>
          )}
        </Fragment>
      ) : null}
    </ConsoleLayout>
  );
}

export interface ConsoleAuditRow {
  at: string;
  /** The owner's e-mail address or "API token <name>". */
  who: string;
  action: string;
  subject: string;
  address: string | null;
  client: string | null;
}

/** The audit log, newest first, by action, keyset-paged. */
export function ConsoleAuditPage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  events: ConsoleAuditRow[];
  actions: readonly string[];
  action: string;
  nextHref: string | null;
  notice?: ConsoleNotice;
}): Html {
  return (
    <ConsoleLayout
      ctx={props.ctx}
      title="Audit log"
      publisher={props.publisher}
      section="audit"
      notice={props.notice}
    >
      <form
        method="get"
        action={`${props.ctx.basePath}/console/${props.publisher.slug}/audit`}
        class="filters"
      >
        <label for="audit-action">Action</label>
        <select id="audit-action" name="action">
          <option value="">Every action</option>
          {props.actions.map((a) => (
            <option value={a} selected={a === props.action}>
              {a}
            </option>
          ))}
        </select>
        <button type="submit">Show</button>
      </form>
      {props.events.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">When (UTC)</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Subject</th>
              <th scope="col">Address</th>
              <th scope="col">Client</th>
            </tr>
          </thead>
          <tbody>
            {props.events.map((e) => (
              <tr>
                <td>{when(e.at)}</td>
                <td>{e.who}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{e.subject}</td>
                <td>{e.address ?? '—'}</td>
                <td>{e.client ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No events{props.action ? ' of this action' : ''}.</p>
      )}
      <NextPage href={props.nextHref} />
    </ConsoleLayout>
  );
}

export interface ConsoleProfileForm {
  displayName: string;
  supportEmail: string;
  logoUrl: string;
}

/** The publisher's name, support address and logo (an https address or an uploaded image). */
export function ConsoleProfilePage(props: {
  ctx: PageContext;
  publisher: ConsolePublisher;
  form: ConsoleProfileForm;
  /** Where the current logo is shown from, if there is one. */
  logo: string | null;
  maxLogoBytes: number;
  notice?: ConsoleNotice;
}): Html {
  const f = props.form;
  return (
    <ConsoleLayout
      ctx={props.ctx}
      title="Profile"
      publisher={props.publisher}
      section="profile"
      notice={props.notice}
    >
      <p>
        Buyers see the name and logo on the{' '}
        <a href={`${props.ctx.basePath}/publishers/${props.publisher.slug}`}>publisher page</a>; license mail
        answers go to the support address.
      </p>
      <form
        method="post"
        action={`${props.ctx.basePath}/console/${props.publisher.slug}/profile`}
        enctype="multipart/form-data"
        class="buy narrow"
      >
        <label for="profile-name">Display name</label>
        <input
          id="profile-name"
          type="text"
          name="displayName"
          required
          maxlength={100}
          value={f.displayName}
        />
        <label for="profile-support">Support e-mail (optional)</label>
        <input id="profile-support" type="email" name="supportEmail" maxlength={320} value={f.supportEmail} />
        <fieldset>
          <legend>Logo</legend>
          {props.logo ? (
            <p>
              <img class="icon big" src={props.logo} alt="The current logo" referrerpolicy="no-referrer" />
            </p>
          ) : (
            <p class="muted">No logo yet.</p>
          )}
          <label for="profile-logo-url">Logo address (https)</label>
          <input
            id="profile-logo-url"
            type="url"
            name="logoUrl"
            maxlength={2048}
            placeholder="https://"
            value={f.logoUrl}
          />
          <label for="profile-logo">
            Or upload an image (PNG, JPEG or WebP, at most {props.maxLogoBytes / 1024} KiB)
          </label>
          <input id="profile-logo" type="file" name="logo" accept="image/png,image/jpeg,image/webp" />
          <label class="choice">
            <input type="checkbox" name="removeLogo" value="on" /> Remove the logo
          </label>
        </fieldset>
        <button type="submit">Save profile</button>
      </form>
    </ConsoleLayout>
  );
}
