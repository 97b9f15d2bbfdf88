import { DataSource } from 'typeorm';
import { bearer, createPublisher, json, Publisher, uploadChart } from '../support/api';
import { simpleChart } from '../support/charts';
import { consoleForm, consoleGet, consoleSignIn, consoleUpload, storeOrigin } from '../support/console';
import { InProcessStore, startInProcess } from '../support/in-process';

/** Every route the app serves under /console, from the router itself: new routes are covered as they land. */
function consoleRoutes(store: InProcessStore): Array<{ method: string; path: string }> {
  const router = (
    store.app.getHttpAdapter().getInstance() as {
      router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
    }
  ).router;
  const out: Array<{ method: string; path: string }> = [];
  for (const layer of router.stack) {
    const r = layer.route;
    if (!r || !r.path.startsWith('/console')) continue;
    for (const [method, on] of Object.entries(r.methods))
      if (on) out.push({ method: method.toUpperCase(), path: r.path });
  }
  return out;
}

const UUID = '00000000-0000-4000-8000-000000000001';
/** A route's parameters filled in: ids that match nothing, this publisher's slug and chart. */
const fill = (path: string, slug: string) =>
  path
    .replace(':slug', slug)
    .replace(':name', 'superdb')
    .replace(':version', '1.0.0')
    .replace(/:[a-zA-Z]+/g, UUID);

describe('the publisher console over HTTP', () => {
  let store: InProcessStore;
  let db: DataSource;
  let acme: Publisher;
  let other: Publisher;
  let cookie: string;

  beforeAll(async () => {
    store = await startInProcess('postgres');
    db = store.app.get(DataSource);
    acme = await createPublisher(store.url, 'acme', ['charts:write', 'listings:write']);
    other = await createPublisher(store.url, 'other', ['charts:write', 'listings:write']);
    cookie = await consoleSignIn(store, acme);
    expect(
      (await uploadChart(store.url, 'other', other.apiToken, await simpleChart('otherdb', '1.0.0'))).status,
    ).toBe(201);
  }, 60_000);
  afterAll(() => store?.close());

  it('signs in with the form: a strict, httpOnly cookie under /console; a wrong password gets no cookie', async () => {
    const ok = await fetch(`${store.url}/console/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: storeOrigin(store) },
      body: new URLSearchParams({ email: acme.email, password: acme.password }).toString(),
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/console');
    const set = ok.headers.get('set-cookie')!;
    expect(set).toMatch(/^berth_console=[A-Za-z0-9_-]{43}; /);
    expect(set).toContain('Path=/console');
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
    // The token itself is not stored, only its hash.
    const token = /^berth_console=([^;]+)/.exec(set)![1];
    const rows = (await db.query(`SELECT token_hash FROM console_session`)) as Array<{ token_hash: string }>;
    expect(rows.some((r) => r.token_hash.includes(token))).toBe(false);

    const wrong = await consoleForm(store, '/console/sign-in', '', {
      email: acme.email,
      password: 'nope-nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const page = await wrong.text();
    expect(page).toContain('The e-mail or password is wrong.');
    expect(page).toContain(`value="${acme.email}"`);
    expect(page).not.toContain('nope-nope');
  });

  it('signs a publisher up from the form with the API’s rules; a refused form keeps what was typed, never the password', async () => {
    const bad = await consoleForm(store, '/console/sign-up', '', {
      email: 'new@example.test',
      password: 'short',
      slug: 'Bad Slug',
      displayName: '<b>New</b>',
    });
    expect(bad.status).toBe(400);
    const page = await bad.text();
    expect(page).toContain('password must be at least 10 characters');
    expect(page).toContain('publisher.slug must be 1-40 lower-case letters');
    expect(page).toContain('value="&lt;b&gt;New&lt;/b&gt;"');
    expect(page).not.toContain('value="short"');
    const taken = await consoleForm(store, '/console/sign-up', '', {
      email: 'new@example.test',
      password: 'long-enough-pw',
      slug: 'acme',
      displayName: 'New',
    });
    expect(taken.status).toBe(409);
    const ok = await consoleForm(store, '/console/sign-up', '', {
      email: 'new@example.test',
      password: 'long-enough-pw',
      slug: 'newco',
      displayName: 'New Co',
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Account created');
    const cookieOfNew = await consoleSignIn(store, { email: 'new@example.test', password: 'long-enough-pw' });
    expect(await (await consoleGet(store, '/console', cookieOfNew)).text()).toContain(
      'href="/console/newco/charts"',
    );
  });

  it('shows the sign-in form, not a page, without a session; lists the account’s publishers with one', async () => {
    const anonymous = await consoleGet(store, '/console/acme/charts', '');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('cache-control')).toBe('no-store');
    expect(await anonymous.text()).toContain('action="/console/sign-in"');
    const forged = await consoleGet(store, '/console', 'berth_console=forged-token');
    expect(forged.status).toBe(401);
    const home = await consoleGet(store, '/console', cookie);
    expect(home.status).toBe(200);
    expect(home.headers.get('cache-control')).toBe('private, no-store');
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await home.text();
    expect(html).toContain(acme.email);
    expect(html).toContain('href="/console/acme/charts"');
    expect(html).not.toContain('/console/other/');
  });

  it('uploads a chart from the browser with the API’s checks and words, then lists its versions', async () => {
    const archive = await simpleChart('superdb', '1.0.0');
    // As a browser sends the form: the provenance input left empty is a part with no name and no bytes.
    const up = await consoleUpload(store, '/console/acme/charts/upload', cookie, {
      chart: { bytes: archive, name: 'superdb-1.0.0.tgz' },
      prov: { bytes: Buffer.alloc(0), name: '' },
    });
    expect([up.status, up.headers.get('location')]).toEqual([303, '/console/acme/charts?done=uploaded']);
    const list = await (await consoleGet(store, '/console/acme/charts?done=uploaded', cookie)).text();
    expect(list).toContain('The version was uploaded.');
    expect(list).toContain('href="/console/acme/charts/superdb"');
    expect(list).not.toContain('otherdb');

    // The same version again: the API's 409 and message, on the page.
    const again = await consoleUpload(store, '/console/acme/charts/upload', cookie, {
      chart: { bytes: archive, name: 'superdb-1.0.0.tgz' },
    });
    const api = await uploadChart(store.url, 'acme', acme.apiToken, archive);
    const apiBody = (await json(api)) as { error: string };
    expect([again.status, api.status]).toEqual([409, 409]);
    expect(await again.text()).toContain(apiBody.error.replace(/"/g, '&quot;'));

    // Not a chart: refused, nothing stored.
    const junk = await consoleUpload(store, '/console/acme/charts/upload', cookie, {
      chart: { bytes: Buffer.from('<script>alert(1)</script>'), name: 'x.tgz' },
    });
    expect(junk.status).toBe(400);
    expect(await junk.text()).not.toContain('<script>alert(1)</script>');
    const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM chart_version`)) as Array<{ n: number }>;
    expect(n).toBe(2); // superdb 1.0.0 and other's otherdb

    const detail = await (await consoleGet(store, '/console/acme/charts/superdb', cookie)).text();
    expect(detail).toContain('<td>1.0.0</td>');
    expect(detail).toMatch(/sha256:|<code title="[0-9a-f]{64}">/);
  });

  it('sets the price and policy from the form, shows the buyer’s sentence, and refuses a bad price without storing it', async () => {
    const bad = await consoleForm(store, '/console/acme/charts/superdb/listing', cookie, {
      price: '12,5',
      currency: 'eur',
      policy: 'major',
      months: '',
      published: 'on',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Enter the price as a number of EUR');
    expect(await db.query(`SELECT 1 FROM listing`)).toHaveLength(0);

    const ok = await consoleForm(store, '/console/acme/charts/superdb/listing', cookie, {
      price: '49.50',
      currency: 'eur',
      policy: 'major',
      months: '',
      published: 'on',
    });
    expect([ok.status, ok.headers.get('location')]).toEqual([
      303,
      '/console/acme/charts/superdb?done=listing',
    ]);
    const [listing] = (await db.query(
      `SELECT price_amount, currency, update_policy, published FROM listing`,
    )) as Array<Record<string, unknown>>;
    expect(listing).toEqual({ price_amount: 4950, currency: 'eur', update_policy: 'major', published: true });
    const page = await (await consoleGet(store, '/console/acme/charts/superdb', cookie)).text();
    expect(page).toContain('Updates for all 1.x releases.');
    expect(page).toContain('value="49.50"');
    const catalog = (await (await fetch(`${store.url}/v1/catalog/acme/superdb`)).json()) as {
      price: { amount: number; currency: string };
    };
    expect(catalog.price).toEqual({ amount: 4950, currency: 'eur' });
  });

  it('previews a draft for its publisher only, and yanks a version', async () => {
    await consoleForm(store, '/console/acme/charts/superdb/listing', cookie, {
      price: '49.50',
      currency: 'eur',
      policy: 'all',
      published: '',
    });
    expect(
      (await fetch(`${store.url}/charts/acme/superdb`, { headers: { accept: 'text/html' } })).status,
    ).toBe(404);
    const preview = await consoleGet(store, '/console/acme/charts/superdb/preview', cookie);
    expect(preview.status).toBe(200);
    expect(await preview.text()).toContain('A test chart called superdb');

    const yank = await consoleForm(store, '/console/acme/charts/superdb/versions/1.0.0/yank', cookie);
    expect(yank.status).toBe(303);
    const page = await (await consoleGet(store, '/console/acme/charts/superdb', cookie)).text();
    expect(page).toMatch(/Yanked \d{4}-\d{2}-\d{2}/);
    const [v] = (await db.query(
      `SELECT yanked_at FROM chart_version WHERE version = '1.0.0' AND chart_id IN (SELECT id FROM chart WHERE name = 'superdb')`,
    )) as Array<{ yanked_at: Date | null }>;
    expect(v.yanked_at).not.toBeNull();
  });

  it('refuses every state-changing console route from another origin, a missing origin or a cross-site fetch, before anything happens', async () => {
    const routes = consoleRoutes(store).filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
    expect(routes.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/console/sign-in', '/console/sign-out', '/console/:slug/charts/upload']),
    );
    const before = (await db.query(`SELECT count(*)::int AS n FROM audit_event`)) as Array<{ n: number }>;
    for (const r of routes) {
      const path = fill(r.path, 'acme');
      for (const opts of [
        { origin: 'https://evil.example' },
        { origin: null },
        { origin: 'null' },
        { headers: { 'sec-fetch-site': 'cross-site' } },
        { headers: { 'sec-fetch-site': 'same-site' } },
      ]) {
        const res = await consoleForm(
          store,
          path,
          cookie,
          { email: acme.email, password: acme.password, note: 'x' },
          opts,
        );
        const body = await res.text();
        if (res.status !== 403 || !body.includes('another site'))
          throw new Error(`${r.method} ${path} ${JSON.stringify(opts)}: ${res.status}`);
        expect(res.headers.get('set-cookie')).toBeNull();
      }
    }
    const after = (await db.query(`SELECT count(*)::int AS n FROM audit_event`)) as Array<{ n: number }>;
    expect(after[0].n).toBe(before[0].n);
    // The session still works: nothing signed it out.
    expect((await consoleGet(store, '/console', cookie)).status).toBe(200);
  });

  it("never shows or changes another publisher's data: its slug answers as an unknown one on every route", async () => {
    for (const r of consoleRoutes(store).filter((x) => x.path.includes(':slug'))) {
      const answers: Array<[number, string]> = [];
      for (const slug of ['other', 'no-such-publisher']) {
        const path = fill(r.path, slug);
        const res =
          r.method === 'GET'
            ? await consoleGet(store, path, cookie)
            : await consoleForm(store, path, cookie, { note: 'x' });
        const text = await res.text();
        expect(text).not.toContain('otherdb');
        answers.push([res.status, text.replace(/request [0-9a-f-]+/, '')]);
      }
      if (answers[0][0] !== 403 || answers[0][1] !== answers[1][1])
        throw new Error(`${r.method} ${r.path}: ${answers[0][0]} vs ${answers[1][0]}`);
    }
    const [{ n }] = (await db.query(
      `SELECT count(*)::int AS n FROM chart_version v JOIN chart c ON c.id = v.chart_id WHERE c.name = 'otherdb' AND v.yanked_at IS NULL`,
    )) as Array<{ n: number }>;
    expect(n).toBe(1);
  });

  it('writes its actions to the audit log as the owner', async () => {
    const login = (await (
      await fetch(`${store.url}/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: acme.email, password: acme.password }),
      })
    ).json()) as { accessToken: string };
    const log = (await (
      await fetch(`${store.url}/v1/publishers/acme/audit-log?limit=100`, {
        headers: bearer(login.accessToken),
      })
    ).json()) as { events: Array<{ action: string; subject: string; actor: { kind: string } }> };
    const mine = log.events.filter((e) =>
      ['chart_uploaded', 'listing_changed', 'chart_yanked'].includes(e.action),
    );
    expect(mine.map((e) => [e.action, e.subject, e.actor.kind])).toEqual(
      expect.arrayContaining([
        ['chart_uploaded', 'superdb@1.0.0', 'owner'],
        ['listing_changed', 'superdb', 'owner'],
        ['chart_yanked', 'superdb@1.0.0', 'owner'],
      ]),
    );
  });

  it('signs out this browser, and everywhere: the cookie sessions and the API access tokens end', async () => {
    const second = await consoleSignIn(store, acme);
    const out = await consoleForm(store, '/console/sign-out', second);
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await consoleGet(store, '/console', second)).status).toBe(401);
    expect((await consoleGet(store, '/console', cookie)).status).toBe(200);

    const third = await consoleSignIn(store, acme);
    const everywhere = await consoleForm(store, '/console/sign-out-everywhere', third);
    expect(everywhere.status).toBe(303);
    expect((await consoleGet(store, '/console', cookie)).status).toBe(401);
    expect((await consoleGet(store, '/console', third)).status).toBe(401);
    const api = await fetch(`${store.url}/v1/publishers/acme/tokens`, { headers: bearer(acme.accessToken) });
    expect(api.status).toBe(401);
    // A new sign-in works again.
    cookie = await consoleSignIn(store, acme);
    expect((await consoleGet(store, '/console', cookie)).status).toBe(200);
  });
});
