import type { CatalogChange, CatalogChanges } from '@berth/catalog';
import { pageEtag, RENDERED_PAGE_TTL_MS, RenderedPages } from './rendered-pages';

/** The change feed as the cache sees it: notices to hand out, and whether they are being heard. */
function feed() {
  const handlers: Array<(c: CatalogChange) => void> = [];
  const f = {
    live: true,
    subscribe: (h: (c: CatalogChange) => void) => {
      handlers.push(h);
      return () => undefined;
    },
    notify: (c: CatalogChange) => handlers.forEach((h) => h(c)),
  };
  return f;
}

function setup() {
  const changes = feed();
  const pages = new RenderedPages(changes as unknown as CatalogChanges);
  pages.onModuleInit();
  let renders = 0;
  const render = (html: string) => () => {
    renders++;
    return Promise.resolve(html);
  };
  return { changes, pages, render, renders: () => renders };
}

describe('RenderedPages', () => {
  afterEach(() => jest.useRealTimers());

  it('renders a page once and serves the same bytes and ETag after', async () => {
    const { pages, render, renders } = setup();
    const first = await pages.get('home', render('<p>v1</p>'));
    const second = await pages.get('home', render('<p>v2</p>'));
    expect(second).toEqual(first);
    expect(first).toEqual({ html: '<p>v1</p>', etag: pageEtag('<p>v1</p>') });
    expect(renders()).toBe(1);
    expect(pages.stats).toEqual({ hits: 1, misses: 1 });
  });

  it('renders concurrent misses of one page once', async () => {
    const { pages, renders } = setup();
    let release: (html: string) => void = () => undefined;
    let calls = 0;
    const slow = () => {
      calls++;
      return new Promise<string>((r) => (release = r));
    };
    const waiting = Array.from({ length: 16 }, () => pages.get('chart a', slow));
    release('<p>a</p>');
    const got = await Promise.all(waiting);
    expect(calls).toBe(1);
    expect(new Set(got.map((g) => g?.html))).toEqual(new Set(['<p>a</p>']));
    expect(renders()).toBe(0);
  });

  it('drops every page on a catalog notice, and keeps nothing rendered from before it', async () => {
    const { changes, pages, render } = setup();
    await pages.get('home', render('old home'));
    await pages.get('search x', render('old search'));
    changes.notify({ publisherId: 'p', chart: 'c' });
    expect((await pages.get('home', render('new home')))?.html).toBe('new home');
    expect((await pages.get('search x', render('new search')))?.html).toBe('new search');

    // A render under way when a notice arrives is answered to its caller but not kept.
    let release: (html: string) => void = () => undefined;
    const pending = pages.get('chart c', () => new Promise<string>((r) => (release = r)));
    changes.notify('all');
    release('before the change');
    expect((await pending)?.html).toBe('before the change');
    expect((await pages.get('chart c', render('after the change')))?.html).toBe('after the change');
  });

  it('renders again after the time to live', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-03T10:00:00Z') });
    const { pages, render } = setup();
    await pages.get('home', render('first'));
    jest.setSystemTime(Date.now() + RENDERED_PAGE_TTL_MS - 1);
    expect((await pages.get('home', render('second')))?.html).toBe('first');
    jest.setSystemTime(Date.now() + 2);
    expect((await pages.get('home', render('third')))?.html).toBe('third');
  });

  it('keeps nothing while notices are not heard, and nothing for a page that is not there', async () => {
    const { changes, pages, render, renders } = setup();
    changes.live = false;
    await pages.get('home', render('a'));
    await pages.get('home', render('b'));
    expect(renders()).toBe(2);
    changes.live = true;
    expect(await pages.get('chart missing', () => Promise.resolve(null))).toBeNull();
    expect(await pages.get('chart missing', () => Promise.resolve('now there'))).toEqual({
      html: 'now there',
      etag: pageEtag('now there'),
    });
  });

  it('evicts the least recently used pages beyond its byte budget', async () => {
    const { pages, render, renders } = setup();
    const big = 'x'.repeat(1024 * 1024); // 1 MiB: 16 fit in the budget, with keys a little fewer
    for (let i = 0; i < 20; i++) await pages.get(`page ${i}`, render(`${big}${i}`));
    expect(renders()).toBe(20);
    await pages.get('page 19', render('fresh'));
    expect(renders()).toBe(20); // the newest is still there
    expect((await pages.get('page 0', render('fresh 0')))?.html).toBe('fresh 0'); // the oldest is not
  });
});
