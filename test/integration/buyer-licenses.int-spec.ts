import { DataSource } from 'typeorm';
import {
  basicAuth,
  bearer,
  createPublisher,
  postJson,
  Publisher,
  publishChart,
  statusAndCode,
} from '../support/api';
import { buyerCookieFrom, openBuyerSession, requestSignInLink } from '../support/buyer';
import { simpleChart } from '../support/charts';
import { buyerEmail, buyLocally } from '../support/checkout';
import { InProcessStore, startInProcess } from '../support/in-process';
import { Mailpit, startMailpit, tokenOf } from '../support/mailpit';

const PUBLIC_URL = 'https://store.example.test';

interface BuyerLicense {
  id: string;
  publisher: string;
  chart: string;
  status: string;
  versionRange: string;
  coverage: string;
  addCommand: string;
}

describe('"My licenses": passwordless sign-in, keys and rotation', () => {
  let mailpit: Mailpit;
  let store: InProcessStore;
  let db: DataSource;
  let acme: Publisher;

  const asBuyer = (cookie: string, extra: Record<string, string> = {}) => ({ cookie, ...extra });
  const licensesOf = async (cookie: string) => {
    const res = await fetch(`${store.url}/v1/buyer/licenses`, { headers: asBuyer(cookie) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return ((await res.json()) as { licenses: BuyerLicense[] }).licenses;
  };
  const buyerPost = (cookie: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${store.url}${path}`, { method: 'POST', headers: asBuyer(cookie, headers) });
  const verify = async (key: string) =>
    (await (await postJson(`${store.url}/v1/licenses/verify`, { key })).json()) as {
      valid: boolean;
      reason?: string;
    };
  const index = (id: string, key: string) =>
    fetch(`${store.url}/helm/acme/index.yaml`, { headers: basicAuth(id, key) });
  const outboxTo = async (email: string): Promise<string[]> =>
    (
      (await db.query(`SELECT kind FROM mail_outbox WHERE recipient = $1 ORDER BY created_at`, [
        email,
      ])) as Array<{
        kind: string;
      }>
    ).map((r) => r.kind);

  beforeAll(async () => {
    mailpit = await startMailpit();
    store = await startInProcess('postgres', {
      PUBLIC_URL,
      SMTP_URL: mailpit.smtpUrl,
      LOGIN_LINKS_PER_EMAIL: '4',
    });
    db = store.app.get(DataSource);
    acme = await createPublisher(store.url, 'acme', ['charts:write', 'listings:write']);
    await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.2.0'), 4900);
    await publishChart(store.url, acme, 'addon', await simpleChart('addon', '1.0.0'), 1500);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await mailpit?.stop();
  });

  it('signs a buyer in by an e-mailed single-use link, lists their licenses and rotates a key', async () => {
    const email = buyerEmail('my');
    const bought = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email });
    const link = await requestSignInLink(store.url, mailpit, email);
    expect(link.startsWith(`${PUBLIC_URL}/my/sign-in?token=`)).toBe(true);
    // The link's secret half is not in the database: only the link id is.
    const rows = (await db.query(`SELECT * FROM buyer_login_link WHERE email = $1`, [email])) as object[];
    expect(rows).toHaveLength(1);
    const secret = tokenOf(link).split('.')[1];
    expect(secret.length).toBeGreaterThan(20);
    expect(JSON.stringify(rows)).not.toContain(secret);

    // Opening the link shows a button; only the POST uses the link up (a mail scanner's GET does not).
    const confirm = await fetch(`${store.url}/my/sign-in?token=${encodeURIComponent(tokenOf(link))}`, {
      headers: { accept: 'text/html' },
    });
    expect(confirm.status).toBe(200);
    expect(confirm.headers.get('cache-control')).toBe('private, no-store');
    // The URL carries the token: no other site gets it as a Referer.
    expect(confirm.headers.get('referrer-policy')).toBe('same-origin');
    expect(buyerCookieFrom(confirm)).toBeUndefined();
    expect(await confirm.text()).toContain('action="/my/sign-in"');

    const signIn = await fetch(`${store.url}/my/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokenOf(link) }).toString(),
      redirect: 'manual',
    });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/my/licenses');
    const setCookie = signIn.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(
      /^berth_buyer=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=604\d{3}; HttpOnly; SameSite=Lax; Secure$/,
    );
    const cookie = buyerCookieFrom(signIn)!;

    // Used once: the same link again is refused, on the page and on the API.
    const again = await fetch(`${store.url}/my/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ token: tokenOf(link) }).toString(),
      redirect: 'manual',
    });
    expect(again.status).toBe(400);
    expect(buyerCookieFrom(again)).toBeUndefined();
    expect(await again.text()).toContain('expired or was already used');
    expect(
      await statusAndCode(await postJson(`${store.url}/v1/buyer/sessions`, { token: tokenOf(link) })),
    ).toEqual([400, 'login_link_invalid']);

    const [license] = await licensesOf(cookie);
    expect(license).toMatchObject({
      id: bought.id,
      publisher: 'acme',
      chart: 'superdb',
      status: 'active',
      versionRange: '*',
      coverage: 'every version, including future releases.',
    });
    expect(license.addCommand).toBe(
      `helm repo add acme ${PUBLIC_URL}/helm/acme --username ${bought.id} --password-stdin`,
    );
    const page = await fetch(`${store.url}/my/licenses`, {
      headers: asBuyer(cookie, { accept: 'text/html' }),
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('private, no-store');
    const html = await page.text();
    expect(html).toContain(email);
    expect(html).toContain(`action="/my/licenses/${bought.id}/rotate"`);
    expect(html).not.toContain('berth_lic_');

    // Show key: a key that opens the repository, shown only on request.
    const shown = await buyerPost(cookie, `/v1/buyer/licenses/${bought.id}/key`);
    expect(shown.status).toBe(200);
    const { key: oldKey } = ((await shown.json()) as { license: { key: string } }).license;
    expect((await index(bought.id, oldKey)).status).toBe(200);
    expect((await index(bought.id, bought.key)).status).toBe(200);

    // Rotate: the new key works, every earlier one (the purchase's, the one just shown) gets 401.
    const rotated = await buyerPost(cookie, `/v1/buyer/licenses/${bought.id}/rotate`);
    expect(rotated.status).toBe(200);
    const { key: newKey, id } = ((await rotated.json()) as { license: { id: string; key: string } }).license;
    expect(id).toBe(bought.id);
    expect((await index(bought.id, newKey)).status).toBe(200);
    for (const old of [oldKey, bought.key]) {
      expect((await index(bought.id, old)).status).toBe(401);
      expect(await verify(old)).toMatchObject({ valid: false, reason: 'rotated' });
    }
    expect(await verify(newKey)).toMatchObject({ valid: true });
    // The page's rotate form answers with the next key, shown once, and the previous one stops too.
    const viaPage = await buyerPost(cookie, `/my/licenses/${bought.id}/rotate`, { accept: 'text/html' });
    expect(viaPage.status).toBe(200);
    const rotatedPage = await viaPage.text();
    expect(rotatedPage).toContain('The old key no longer works');
    const pageKey = /id="key-[^"]+"[^>]*>(berth_lic_[A-Za-z0-9_.-]+)</.exec(rotatedPage)?.[1];
    expect(pageKey).toMatch(/^berth_lic_/);
    expect((await index(bought.id, pageKey!)).status).toBe(200);
    expect((await index(bought.id, newKey)).status).toBe(401);

    // Sign out ends the session on the server, not just in this browser.
    const out = await fetch(`${store.url}/v1/buyer/session`, { method: 'DELETE', headers: asBuyer(cookie) });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().join()).toMatch(/^berth_buyer=; Path=\/; Max-Age=0;/);
    expect(
      await statusAndCode(await fetch(`${store.url}/v1/buyer/licenses`, { headers: asBuyer(cookie) })),
    ).toEqual([401, 'buyer_session_required']);
  });

  it('answers every address the same, and mails only one that holds a license', async () => {
    const stranger = buyerEmail('stranger');
    const res = await postJson(`${store.url}/v1/buyer/login-links`, { email: stranger });
    expect(res.status).toBe(202);
    const known = buyerEmail('known');
    await buyLocally(store.url, { publisher: 'acme', chart: 'addon', email: known });
    const res2 = await postJson(`${store.url}/v1/buyer/login-links`, { email: known.toUpperCase() });
    expect(res2.status).toBe(202);
    expect(await res2.json()).toEqual(await res.json());
    expect(await outboxTo(stranger)).toEqual([]);
    expect(await outboxTo(known)).toEqual(['license_key', 'buyer_login_link']);
  });

  it("keeps a buyer to their own licenses: another buyer's id is 404, as if it did not exist", async () => {
    const a = buyerEmail('a');
    const b = buyerEmail('b');
    await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: a });
    const theirs = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: b });
    const cookie = await openBuyerSession(store.url, await requestSignInLink(store.url, mailpit, a));
    expect((await licensesOf(cookie)).map((l) => l.id)).not.toContain(theirs.id);
    for (const action of ['key', 'rotate'])
      expect(
        await statusAndCode(await buyerPost(cookie, `/v1/buyer/licenses/${theirs.id}/${action}`)),
      ).toEqual([404, 'license_not_found']);
    expect(await verify(theirs.key)).toMatchObject({ valid: true });
  });

  it("shows the buyer the publisher's note about a revocation, as text", async () => {
    const email = buyerEmail('note');
    const bought = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email });
    const revoke = (note: unknown) =>
      postJson(
        `${store.url}/v1/publishers/acme/licenses/${bought.id}/revoke`,
        { note },
        bearer(acme.accessToken),
      );
    expect(await statusAndCode(await revoke('x'.repeat(301)))).toEqual([400, 'validation_failed']);
    expect(await statusAndCode(await revoke(''))).toEqual([400, 'validation_failed']);
    const note = 'Chargeback <script>alert(1)</script> & "key shared" — contact help@acme.example';
    expect((await revoke(note)).status).toBe(204);
    expect(await verify(bought.key)).toMatchObject({ valid: false });
    const cookie = await openBuyerSession(store.url, await requestSignInLink(store.url, mailpit, email));
    const [mine] = await licensesOf(cookie);
    expect(mine).toMatchObject({ id: bought.id, status: 'revoked', publisherNote: note });
    const page = await (
      await fetch(`${store.url}/my/licenses`, { headers: { cookie, accept: 'text/html' } })
    ).text();
    expect(page).toContain(
      'The publisher says: “Chargeback &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;key shared&quot;',
    );
    expect(page).not.toContain('<script>alert(1)');
  });

  it('refuses forged, expired and cross-site attempts, and floods with 429', async () => {
    const email = buyerEmail('edge');
    const bought = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email });
    const link = await requestSignInLink(store.url, mailpit, email);
    const [id, secret] = tokenOf(link).split('.');
    const forged = `${id}.${secret.slice(0, -2)}${secret.endsWith('AA') ? 'BB' : 'AA'}`;
    const forgedPage = await fetch(`${store.url}/my/sign-in?token=${forged}`, {
      headers: { accept: 'text/html' },
    });
    expect(forgedPage.status).toBe(400);
    expect(await forgedPage.text()).toContain('expired or was already used');
    expect(await statusAndCode(await postJson(`${store.url}/v1/buyer/sessions`, { token: forged }))).toEqual([
      400,
      'login_link_invalid',
    ]);
    // Past its 15 minutes the genuine link opens nothing.
    await db.query(`UPDATE buyer_login_link SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      id,
    ]);
    expect(
      await statusAndCode(await postJson(`${store.url}/v1/buyer/sessions`, { token: tokenOf(link) })),
    ).toEqual([400, 'login_link_invalid']);

    const cookie = await openBuyerSession(store.url, await requestSignInLink(store.url, mailpit, email));
    // A page of another site posting with the buyer's cookie changes nothing.
    const before = await verify(bought.key);
    const crossSite = await buyerPost(cookie, `/v1/buyer/licenses/${bought.id}/rotate`, {
      origin: 'https://evil.example',
    });
    expect(await statusAndCode(crossSite)).toEqual([403, 'cross_origin_refused']);
    expect(await verify(bought.key)).toEqual(before);
    // The store's own origin is fine.
    expect(
      (await buyerPost(cookie, `/v1/buyer/licenses/${bought.id}/key`, { origin: PUBLIC_URL })).status,
    ).toBe(200);

    // Bad input: a clear 400 on the API, the form again with the message in a browser.
    for (const bad of ['not-an-address', '', 'a@b', `${'x'.repeat(320)}@example.com`])
      expect(
        await statusAndCode(await postJson(`${store.url}/v1/buyer/login-links`, { email: bad })),
      ).toEqual([400, 'validation_failed']);
    const badForm = await fetch(`${store.url}/my/sign-in/link`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: 'email=%3Cscript%3E',
    });
    expect(badForm.status).toBe(400);
    const badHtml = await badForm.text();
    expect(badHtml).toContain('Enter an e-mail address');
    expect(badHtml).toContain('value="&lt;script&gt;"');

    // LOGIN_LINKS_PER_EMAIL=4: two links were asked for above; the fifth ask is refused with Retry-After.
    await requestSignInLink(store.url, mailpit, email);
    await requestSignInLink(store.url, mailpit, email);
    const flood = await postJson(`${store.url}/v1/buyer/login-links`, { email });
    expect(await statusAndCode(flood)).toEqual([429, 'too_many_login_links']);
    expect(Number(flood.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('shows a browser without a session the sign-in form, and a program 401', async () => {
    const page = await fetch(`${store.url}/my/licenses`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('action="/my/sign-in/link"');
    expect(await statusAndCode(await fetch(`${store.url}/v1/buyer/licenses`))).toEqual([
      401,
      'buyer_session_required',
    ]);
    expect(
      await statusAndCode(
        await fetch(`${store.url}/v1/buyer/licenses`, { headers: { cookie: 'berth_buyer=forged' } }),
      ),
    ).toEqual([401, 'buyer_session_required']);
  });
});
