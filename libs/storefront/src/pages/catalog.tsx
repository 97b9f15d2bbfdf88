import { formatMoney } from '@berth/commerce';
import { ChartCard, HomePageModel, PublisherPageModel, SearchPageModel } from '../catalog-pages.service';
import { publisherLogoUrl } from '../publisher-logo';
import { Fragment, h, Html } from '../html/jsx';
import { Layout, PageContext } from './layout';

const chartPath = (ctx: PageContext, c: { publisher: { slug: string }; name: string }) =>
  `${ctx.basePath}/charts/${encodeURIComponent(c.publisher.slug)}/${encodeURIComponent(c.name)}`;

export function Price(props: { price: { amount: number; currency: string } }): Html {
  return props.price.amount === 0 ? (
    <span class="price free">Free</span>
  ) : (
    <span class="price">{formatMoney(props.price.amount, props.price.currency)}</span>
  );
}

/** "1 download", "1,234 downloads". */
export const downloadsText = (n: number) => `${n.toLocaleString('en-US')} download${n === 1 ? '' : 's'}`;

export function Card(props: { ctx: PageContext; card: ChartCard }): Html {
  const c = props.card;
  return (
    <li class="card">
      <h3>
        {c.icon ? <img class="icon" src={c.icon} alt="" loading="lazy" referrerpolicy="no-referrer" /> : null}
        <a href={chartPath(props.ctx, c)}>{c.name}</a>
      </h3>
      <p class="small muted">
        by{' '}
        <a href={`${props.ctx.basePath}/publishers/${encodeURIComponent(c.publisher.slug)}`}>
          {c.publisher.displayName}
        </a>
        {c.latestVersion ? ` · ${c.latestVersion}` : ''}
        {c.downloads !== undefined ? ` · ${downloadsText(c.downloads)} in 30 days` : ''}
      </p>
      <p>{c.description ?? ''}</p>
      <p>
        <Price price={c.price} />
      </p>
      {c.keywords.length ? (
        <p>
          {c.keywords.slice(0, 6).map((k) => (
            <span class="tag">{k}</span>
          ))}
        </p>
      ) : null}
    </li>
  );
}

function Cards(props: { ctx: PageContext; cards: ChartCard[] }): Html {
  return (
    <ul class="grid">
      {props.cards.map((card) => (
        <Card ctx={props.ctx} card={card} />
      ))}
    </ul>
  );
}

export function HomePage(props: { ctx: PageContext; model: HomePageModel }): Html {
  const { ctx, model } = props;
  return (
    <Layout
      ctx={ctx}
      title="Berth"
      description="Helm charts, free and paid, installed with the stock Helm client."
    >
      <section class="hero">
        <h1>Helm charts for your clusters</h1>
        <p class="muted">
          Free and paid charts. Pay once, get a license key, install with the stock Helm client.
        </p>
        <form method="get" action={`${ctx.basePath}/charts`} role="search">
          <label class="visually-hidden" for="home-q">
            Search charts
          </label>
          <input id="home-q" type="search" name="q" placeholder="Search by name, keyword or publisher" />
          <button type="submit">Search</button>
        </form>
      </section>
      <h2>Recently updated</h2>
      {model.newest.length ? (
        <Cards ctx={ctx} cards={model.newest} />
      ) : (
        <p class="muted">Nothing is published yet.</p>
      )}
      {model.mostDownloaded.length ? (
        <Fragment>
          <h2>Most downloaded</h2>
          <Cards ctx={ctx} cards={model.mostDownloaded} />
        </Fragment>
      ) : null}
      {model.publishers.length ? (
        <Fragment>
          <h2>Publishers</h2>
          <ul class="plain">
            {model.publishers.map((p) => (
              <li>
                <a href={`${ctx.basePath}/publishers/${encodeURIComponent(p.publisher.slug)}`}>
                  {p.publisher.displayName}
                </a>{' '}
                <span class="muted small">
                  {p.charts} chart{p.charts === 1 ? '' : 's'}
                </span>
              </li>
            ))}
          </ul>
        </Fragment>
      ) : null}
    </Layout>
  );
}

function searchHref(ctx: PageContext, m: SearchPageModel, page: number): string {
  const params = new URLSearchParams();
  if (m.q) params.set('q', m.q);
  if (m.publisher) params.set('publisher', m.publisher.slug);
  if (m.price) params.set('price', m.price);
  if (page > 1) params.set('page', String(page));
  const query = params.toString();
  return `${ctx.basePath}/charts${query ? `?${query}` : ''}`;
}

export function SearchPage(props: { ctx: PageContext; model: SearchPageModel }): Html {
  const { ctx, model } = props;
  const heading = model.q
    ? `Charts matching “${model.q}”`
    : model.publisher
      ? `Charts by ${model.publisher.displayName}`
      : 'All charts';
  return (
    <Layout ctx={ctx} title={heading} q={model.q}>
      <h1>{heading}</h1>
      <form class="filters" method="get" action={`${ctx.basePath}/charts`}>
        <label>
          Words
          <input type="search" name="q" value={model.q} />
        </label>
        <label>
          Price
          <select name="price">
            <option value="" selected={!model.price}>
              Any
            </option>
            <option value="free" selected={model.price === 'free'}>
              Free
            </option>
            <option value="paid" selected={model.price === 'paid'}>
              Paid
            </option>
          </select>
        </label>
        {model.publisher ? <input type="hidden" name="publisher" value={model.publisher.slug} /> : null}
        <button type="submit">Filter</button>
      </form>
      <p class="muted" role="status">
        {model.total === 0 ? 'No charts found.' : `${model.total} chart${model.total === 1 ? '' : 's'}`}
        {model.pages > 1 ? ` · page ${model.page} of ${model.pages}` : ''}
      </p>
      <Cards ctx={ctx} cards={model.items} />
      {model.pages > 1 ? (
        <nav class="pager" aria-label="Pages">
          {model.page > 1 ? (
            <a rel="prev" href={searchHref(ctx, model, model.page - 1)}>
              ← Previous
            </a>
          ) : null}
          {model.page < model.pages ? (
            <a rel="next" href={searchHref(ctx, model, model.page + 1)}>
              Next →
            </a>
          ) : null}
        </nav>
      ) : null}
    </Layout>
  );
}

export function PublisherPage(props: { ctx: PageContext; model: PublisherPageModel }): Html {
  const { ctx, model } = props;
  const logo = publisherLogoUrl(ctx.basePath, model.publisher.slug, model.logo);
  return (
    <Layout ctx={ctx} title={model.publisher.displayName}>
      <h1>
        {logo ? <img class="icon big" src={logo} alt="" referrerpolicy="no-referrer" /> : null}
        {model.publisher.displayName}
      </h1>
      <p class="muted">
        Helm repository: <code>{`${ctx.publicUrl}/helm/${model.publisher.slug}`}</code>
      </p>
      <h2>Charts</h2>
      {model.charts.length ? (
        <Cards ctx={ctx} cards={model.charts} />
      ) : (
        <p class="muted">No published charts yet.</p>
      )}
    </Layout>
  );
}

export function MessagePage(props: { ctx: PageContext; title: string; children?: Html | string }): Html {
  return (
    <Layout ctx={props.ctx} title={props.title}>
      <h1>{props.title}</h1>
      <p>{props.children}</p>
    </Layout>
  );
}
