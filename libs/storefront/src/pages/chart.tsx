import { formatMoney } from '@berth/commerce';
import { ChartPageModel } from '../catalog-pages.service';
import { Fragment, h, Html, raw } from '../html/jsx';
import { downloadsText, Price } from './catalog';
import { CopyBlock, Layout, PageContext } from './layout';

const day = (d: Date) => d.toISOString().slice(0, 10);
const kib = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);

/** What the buy form sends back when it was refused: the address typed and why. */
export interface BuyFormState {
  email: string;
  error: string;
}

function InstallBox(props: { ctx: PageContext; m: ChartPageModel; buy?: BuyFormState }): Html {
  const { ctx, m } = props;
  const slug = m.publisher.slug;
  const repo = `${ctx.publicUrl}/helm/${slug}`;
  const versionFlag = m.latest ? '' : ` --version ${m.version.version}`;
  if (m.chart.price.amount === 0) {
    return (
      <aside class="box" aria-labelledby="install-h">
        <h2 id="install-h">Install</h2>
        <p>
          <Price price={m.chart.price} />
        </p>
        <CopyBlock
          id="cmd-add"
          label="Add the repository"
          text={`helm repo add ${slug} ${repo}\nhelm repo update`}
        />
        <CopyBlock
          id="cmd-install"
          label="Install"
          text={`helm install ${m.chart.name} ${slug}/${m.chart.name}${versionFlag}`}
        />
      </aside>
    );
  }
  if (!m.onSale) {
    return (
      <aside class="box" aria-labelledby="buy-h">
        <h2 id="buy-h">Not on sale yet</h2>
        <p>
          <Price price={m.chart.price} />
        </p>
        <p>The publisher is still setting up payouts: this chart can be bought once they have finished.</p>
      </aside>
    );
  }
  const price = formatMoney(m.chart.price.amount, m.chart.price.currency);
  const covered = m.coverage.covered;
  return (
    <aside class="box" aria-labelledby="buy-h">
      <h2 id="buy-h">Buy a license</h2>
      <p>
        <Price price={m.chart.price} /> <span class="muted small">once, no subscription</span>
      </p>
      <p>{m.coverage.sentence}</p>
      <p class="small">
        Bought today, a license opens{' '}
        {covered.length === m.chart.versions.length
          ? 'every published version'
          : `${covered.length} of ${m.chart.versions.length} published versions`}
        {covered.length && covered.length < m.chart.versions.length
          ? `: ${covered.slice(0, 8).join(', ')}${covered.length > 8 ? ', …' : ''}`
          : ''}
        .
      </p>
      <form
        class="buy"
        method="post"
        action={`${ctx.basePath}/charts/${encodeURIComponent(slug)}/${encodeURIComponent(m.chart.name)}/buy`}
      >
        <label for="buy-email">Your e-mail (the license key is sent there)</label>
        <input
          id="buy-email"
          type="email"
          name="email"
          required
          maxlength={320}
          autocomplete="email"
          value={props.buy?.email ?? ''}
          aria-invalid={props.buy ? 'true' : undefined}
          aria-describedby={props.buy ? 'buy-error' : undefined}
        />
        {props.buy ? (
          <p class="field-error" id="buy-error" role="alert">
            {props.buy.error}
          </p>
        ) : null}
        <button type="submit">Buy for {price}</button>
      </form>
      <p class="small muted">
        After paying you get a key:{' '}
        <code>
          helm repo add {slug} {repo} --username &lt;license id&gt; --password-stdin
        </code>
      </p>
    </aside>
  );
}

function Values(props: { ctx: PageContext; m: ChartPageModel }): Html {
  const { ctx, m } = props;
  const others = m.chart.versions.filter((v) => v.version !== m.version.version);
  const here = `${ctx.basePath}/charts/${encodeURIComponent(m.publisher.slug)}/${encodeURIComponent(m.chart.name)}/${encodeURIComponent(m.version.version)}`;
  return (
    <section aria-labelledby="values-h">
      <h2 id="values-h">Default values</h2>
      {m.values === null ? (
        <p class="muted">This version has no values.yaml recorded.</p>
      ) : (
        <Fragment>
          {others.length ? (
            <form class="filters" method="get" action={`${here}#values-h`}>
              <label>
                Compare with
                <select name="compare">
                  {others.map((v) => (
                    <option value={v.version} selected={m.compare?.version === v.version}>
                      {v.version}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" class="secondary">
                Show changes
              </button>
            </form>
          ) : null}
          {m.compare ? (
            m.compare.lines === null ? (
              <p class="notice">These two values files are too large to compare here.</p>
            ) : (
              <Fragment>
                <p class="small muted">
                  Changes from {m.compare.version} to {m.version.version}: removed lines marked −, added lines
                  +.
                </p>
                <pre class="diff">
                  {m.compare.lines.map((l) => (
                    <span
                      class={l.kind}
                    >{`${l.kind === 'add' ? '+ ' : l.kind === 'del' ? '− ' : '  '}${l.text}`}</span>
                  ))}
                </pre>
              </Fragment>
            )
          ) : (
            <pre>{m.values}</pre>
          )}
          {m.valuesTruncated ? (
            <p class="small muted">values.yaml is longer than what is shown here.</p>
          ) : null}
        </Fragment>
      )}
    </section>
  );
}

function Schema(props: { m: ChartPageModel }): Html | null {
  const s = props.m.schema;
  if (!s) return null;
  return (
    <section aria-labelledby="schema-h">
      <h2 id="schema-h">Values schema</h2>
      {s.rows.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Type</th>
              <th scope="col">Default</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {s.rows.map((r) => (
              <tr>
                <td>
                  <code>{r.path}</code>
                  {r.required ? <span class="small muted"> (required)</span> : null}
                </td>
                <td>{r.type}</td>
                <td>{r.default !== null ? <code>{r.default}</code> : null}</td>
                <td>{r.description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">The schema declares no properties.</p>
      )}
      {s.truncated ? <p class="small muted">The schema is larger than what is shown here.</p> : null}
    </section>
  );
}

function Versions(props: { ctx: PageContext; m: ChartPageModel }): Html {
  const { ctx, m } = props;
  const base = `${ctx.basePath}/charts/${encodeURIComponent(m.publisher.slug)}/${encodeURIComponent(m.chart.name)}`;
  const covered = new Set(m.coverage.covered);
  return (
    <section aria-labelledby="versions-h">
      <h2 id="versions-h">Versions</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">App version</th>
            <th scope="col">Published</th>
            <th scope="col">Size</th>
            <th scope="col">Downloads</th>
            {m.chart.price.amount > 0 ? <th scope="col">In a license bought today</th> : null}
            <th scope="col">Changes</th>
          </tr>
        </thead>
        <tbody>
          {m.chart.versions.map((v) => {
            const changes = m.changes.get(v.version) ?? [];
            return (
              <tr>
                <td>
                  <a
                    href={`${base}/${encodeURIComponent(v.version)}`}
                    aria-current={v.version === m.version.version ? 'page' : undefined}
                  >
                    {v.version}
                  </a>
                  {v.signed ? <span class="badge signed"> signed</span> : null}
                </td>
                <td>{v.appVersion ?? ''}</td>
                <td>
                  <time datetime={v.created.toISOString()}>{day(v.created)}</time>
                </td>
                <td>{kib(v.size)}</td>
                <td>{(m.downloads.byVersion.get(v.version) ?? 0).toLocaleString('en-US')}</td>
                {m.chart.price.amount > 0 ? <td>{covered.has(v.version) ? 'yes' : 'no'}</td> : null}
                <td>
                  {changes.length ? (
                    <ul class="changes">
                      {changes.map((c) => (
                        <li>
                          {c.kind ? <span class="tag">{c.kind}</span> : null}
                          {c.description}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

export function ChartPage(props: { ctx: PageContext; m: ChartPageModel; buy?: BuyFormState }): Html {
  const { ctx, m } = props;
  const c = m.chart;
  return (
    <Layout ctx={ctx} title={`${c.name} ${m.version.version}`} description={c.description ?? undefined}>
      <div class="chart-head">
        {c.icon ? <img class="icon big" src={c.icon} alt="" referrerpolicy="no-referrer" /> : null}
        <div>
          <h1>
            {c.name} <span class="muted">{m.version.version}</span>
          </h1>
          <p>
            by{' '}
            <a href={`${ctx.basePath}/publishers/${encodeURIComponent(m.publisher.slug)}`}>
              {m.publisher.displayName}
            </a>
            {m.version.appVersion ? ` · app ${m.version.appVersion}` : ''} · published{' '}
            {day(m.version.created)} · {downloadsText(m.downloads.total)}
            {m.version.signed ? (
              <Fragment>
                {' '}
                <span class="badge signed" title="A provenance file (.prov) is published with this version">
                  signed
                </span>
              </Fragment>
            ) : null}
          </p>
          {c.description ? <p>{c.description}</p> : null}
          <p>
            {c.keywords.map((k) => (
              <a class="tag" href={`${ctx.basePath}/charts?q=${encodeURIComponent(k)}`}>
                {k}
              </a>
            ))}
          </p>
          {!m.latest ? (
            <p class="notice">
              This is an older version. The newest is{' '}
              <a
                href={`${ctx.basePath}/charts/${encodeURIComponent(m.publisher.slug)}/${encodeURIComponent(c.name)}`}
              >
                {c.versions[0].version}
              </a>
              .
            </p>
          ) : null}
        </div>
      </div>
      <nav class="tabs" aria-label="On this page">
        <a href="#readme-h">README</a>
        <a href="#values-h">Values</a>
        {m.schema ? <a href="#schema-h">Schema</a> : null}
        <a href="#versions-h">Versions</a>
      </nav>
      <div class="chart-layout">
        <div>
          <section aria-labelledby="readme-h">
            <h2 id="readme-h">README</h2>
            {m.readmeHtml ? (
              <div class="readme">{raw(m.readmeHtml)}</div>
            ) : (
              <p class="muted">This version has no README.</p>
            )}
          </section>
          <Values ctx={ctx} m={m} />
          <Schema m={m} />
          <Versions ctx={ctx} m={m} />
        </div>
        <div>
          <InstallBox ctx={ctx} m={m} buy={props.buy} />
          {c.home || c.sources.length ? (
            <aside class="box" aria-label="Links">
              <ul class="plain">
                {c.home ? (
                  <li>
                    <a href={c.home} rel="nofollow ugc noopener noreferrer">
                      Home page
                    </a>
                  </li>
                ) : null}
                {c.sources.slice(0, 5).map((s) => (
                  <li>
                    <a href={s} rel="nofollow ugc noopener noreferrer">
                      Source
                    </a>
                  </li>
                ))}
              </ul>
            </aside>
          ) : null}
        </div>
      </div>
    </Layout>
  );
}
