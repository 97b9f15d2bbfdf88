import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { bearer, postJson, statusAndCode } from '../support/api';
import { UnconfirmedAccountSweeper } from '@berth/accounts';
import { InProcessStore, startInProcess } from '../support/in-process';
import { linkIn, Mailpit, ReceivedMail, startMailpit, tokenOf } from '../support/mailpit';

const PUBLIC_URL = 'https://store.example.test';

/** A publisher account's mail with confirmation on (the default): sign-up, confirm, forgotten password. */
describe('publisher accounts: e-mail confirmation and password reset', () => {
  let mailpit: Mailpit;
  let store: InProcessStore;
  let db: DataSource;

  const signUp = (email: string, slug: string, password = 'correct horse battery') =>
    postJson(`${store.url}/v1/accounts`, { email, password, publisher: { slug, displayName: slug } });
  const login = (email: string, password = 'correct horse battery') =>
    postJson(`${store.url}/v1/sessions`, { email, password });
  const mailsTo = async (email: string, subject: RegExp): Promise<ReceivedMail[]> =>
    (await mailpit.messages()).filter((m) => m.to.includes(email) && subject.test(m.subject));
  /** Waits for the `count`-th mail to `email` whose subject matches, and returns the link in it. */
  const linkFrom = async (email: string, subject: RegExp, path: string, count = 1): Promise<string> => {
    await mailpit.waitFor(email, count);
    const until = Date.now() + 10_000;
    for (;;) {
      const mails = await mailsTo(email, subject);
      if (mails.length >= count) {
        const link = linkIn(mails[count - 1].text, path);
        if (!link) throw new Error(`no ${path} link in:\n${mails[count - 1].text}`);
        return link;
      }
      if (Date.now() > until) throw new Error(`no mail "${subject.source}" #${count} to ${email}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const fresh = (tag: string) => {
    const id = randomBytes(3).toString('hex');
    return { email: `${tag}-${id}@mailbox.example`, slug: `${tag}-${id}` };
  };
  const formPost = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${store.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  const accountRows = async (email: string) =>
    (await db.query(`SELECT id, email_verified_at FROM account WHERE email = $1`, [email])) as Array<{
      id: string;
      email_verified_at: Date | null;
    }>;

  beforeAll(async () => {
    mailpit = await startMailpit();
    store = await startInProcess('postgres', {
      PUBLIC_URL,
      SMTP_URL: mailpit.smtpUrl,
      SIGNUP_EMAIL_VERIFICATION: 'required',
    });
    db = store.app.get(DataSource);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await mailpit?.stop();
  });

  it('answers a sign-up the same whether the address is free or taken, and mails each owner what happened', async () => {
    const a = fresh('conf');
    const first = await signUp(a.email, a.slug);
    expect(first.status).toBe(201);
    const firstBody = (await first.json()) as Record<string, unknown>;
    expect(firstBody).toEqual({
      email: a.email,
      publisher: { slug: a.slug, displayName: a.slug },
      emailVerification: 'sent',
    });
    // The same address again, under another name: the same answer, no second account, a different mail.
    const other = fresh('squat');
    const again = await signUp(a.email.toUpperCase(), other.slug, 'another password!!');
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual({
      ...firstBody,
      publisher: { slug: other.slug, displayName: other.slug },
    });
    expect(await accountRows(a.email)).toHaveLength(1);
    expect(await db.query(`SELECT 1 FROM publisher WHERE slug = $1`, [other.slug])).toHaveLength(0);

    await mailpit.waitFor(a.email, 2);
    const link = await linkFrom(a.email, /confirm your e-mail/i, '/account/verify');
    expect(link.startsWith(`${PUBLIC_URL}/account/verify?token=`)).toBe(true);
    const exists = await mailsTo(a.email, /already have a Berth account/i);
    expect(exists).toHaveLength(1);
    expect(exists[0].text).toContain(`${PUBLIC_URL}/account/forgot`);
    // Only the link id is stored: its secret half is nowhere in the database.
    const secret = tokenOf(link).split('.')[1];
    expect(secret.length).toBeGreaterThan(20);
    expect(JSON.stringify(await db.query(`SELECT * FROM account_mail_token`))).not.toContain(secret);
  });

  it('refuses sign-in until the address is confirmed, then the link works once', async () => {
    const a = fresh('gate');
    expect((await signUp(a.email, a.slug)).status).toBe(201);
    // A wrong password learns nothing about confirmation; the right one is told to confirm.
    expect(await statusAndCode(await login(a.email, 'wrong password!'))).toEqual([
      401,
      'invalid_credentials',
    ]);
    expect(await statusAndCode(await login(a.email))).toEqual([403, 'email_not_verified']);
    const link = await linkFrom(a.email, /confirm your e-mail/i, '/account/verify');
    // The right password within 5 minutes of the last link does not mail another one.
    await new Promise((r) => setTimeout(r, 500));
    expect(await mailsTo(a.email, /confirm your e-mail/i)).toHaveLength(1);

    // Opening the link shows a button; only the POST uses the link (a scanner that follows links spends nothing).
    const page = await fetch(link.replace(PUBLIC_URL, store.url));
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('private, no-store');
    expect(await page.text()).toContain(`name="token" value="${tokenOf(link)}"`);
    expect((await accountRows(a.email))[0].email_verified_at).toBeNull();

    const forged = tokenOf(link).slice(0, -2) + (tokenOf(link).endsWith('AA') ? 'BB' : 'AA');
    expect(
      await statusAndCode(await postJson(`${store.url}/v1/accounts/verification`, { token: forged })),
    ).toEqual([400, 'account_link_invalid']);
    expect((await fetch(`${store.url}/account/verify?token=${forged}`)).status).toBe(400);
    const verified = await postJson(`${store.url}/v1/accounts/verification`, { token: tokenOf(link) });
    expect([verified.status, await verified.json()]).toEqual([200, { verified: true }]);
    expect((await accountRows(a.email))[0].email_verified_at).not.toBeNull();
    expect(
      await statusAndCode(await postJson(`${store.url}/v1/accounts/verification`, { token: tokenOf(link) })),
    ).toEqual([400, 'account_link_invalid']);
    const session = await login(a.email);
    expect(session.status).toBe(200);
  });

  it('mails a new confirmation link on sign-in once the last is older than 5 minutes; an expired one is refused', async () => {
    const a = fresh('late');
    expect((await signUp(a.email, a.slug)).status).toBe(201);
    const first = await linkFrom(a.email, /confirm your e-mail/i, '/account/verify');
    const [{ id }] = await accountRows(a.email);
    await db.query(
      `UPDATE account_mail_token SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day'
       WHERE account_id = $1`,
      [id],
    );
    const expired = await formPost('/account/verify', { token: tokenOf(first) }, { origin: PUBLIC_URL });
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('expired or was already used');
    expect(await statusAndCode(await login(a.email))).toEqual([403, 'email_not_verified']);
    const second = await linkFrom(a.email, /confirm your e-mail/i, '/account/verify', 2);
    expect(second).not.toBe(first);
    // The browser's way: the confirmation page's form.
    const done = await formPost('/account/verify', { token: tokenOf(second) }, { origin: PUBLIC_URL });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Address confirmed');
    expect((await login(a.email)).status).toBe(200);
  });

  it('resets a forgotten password by a single-use link that ends every session', async () => {
    const a = fresh('reset');
    expect((await signUp(a.email, a.slug)).status).toBe(201);
    await postJson(`${store.url}/v1/accounts/verification`, {
      token: tokenOf(await linkFrom(a.email, /confirm your e-mail/i, '/account/verify')),
    });
    const { accessToken: oldToken } = (await (await login(a.email)).json()) as { accessToken: string };
    const me = () => fetch(`${store.url}/v1/publishers/${a.slug}/tokens`, { headers: bearer(oldToken) });
    expect((await me()).status).toBe(200);

    // The same answer for an address without an account, and no mail goes out for it.
    const nobody = `nobody-${randomBytes(3).toString('hex')}@mailbox.example`;
    const unknown = await postJson(`${store.url}/v1/accounts/password-resets`, { email: nobody });
    const known = await postJson(`${store.url}/v1/accounts/password-resets`, { email: a.email });
    expect([unknown.status, known.status]).toEqual([202, 202]);
    expect(await unknown.json()).toEqual(await known.json());
    const first = await linkFrom(a.email, /reset your berth password/i, '/account/reset');
    expect(
      await postJson(`${store.url}/v1/accounts/password-resets`, { email: a.email }).then((r) => r.status),
    ).toBe(202);
    const second = await linkFrom(a.email, /reset your berth password/i, '/account/reset', 2);
    expect(await db.query(`SELECT 1 FROM mail_outbox WHERE recipient = $1`, [nobody])).toHaveLength(0);

    const complete = (token: string, newPassword: string) =>
      postJson(`${store.url}/v1/accounts/password-resets/complete`, { token, newPassword });
    expect(await statusAndCode(await complete(tokenOf(second), 'short'))).toEqual([400, 'validation_failed']);
    const done = await complete(tokenOf(second), 'a brand new passphrase');
    expect(done.status).toBe(200);
    expect(done.headers.get('cache-control')).toBe('no-store');
    const { accessToken } = (await done.json()) as { accessToken: string };
    expect(await statusAndCode(await me())).toEqual([401, 'access_token_invalid']);
    expect(
      (await fetch(`${store.url}/v1/publishers/${a.slug}/tokens`, { headers: bearer(accessToken) })).status,
    ).toBe(200);
    expect(await statusAndCode(await login(a.email))).toEqual([401, 'invalid_credentials']);
    expect((await login(a.email, 'a brand new passphrase')).status).toBe(200);
    // Used, and the other link died with it.
    expect(await statusAndCode(await complete(tokenOf(second), 'yet another passphrase'))).toEqual([
      400,
      'account_link_invalid',
    ]);
    expect(await statusAndCode(await complete(tokenOf(first), 'yet another passphrase'))).toEqual([
      400,
      'account_link_invalid',
    ]);
    // A confirmation link is not a reset link.
    expect(await statusAndCode(await complete('not-a-link', 'yet another passphrase'))).toEqual([
      400,
      'account_link_invalid',
    ]);
  });

  it('resets through the pages, which check the form, refuse cross-site posts, and confirm the address too', async () => {
    const a = fresh('pages');
    expect((await signUp(a.email, a.slug)).status).toBe(201);
    const forgot = await fetch(`${store.url}/account/forgot`);
    expect(forgot.status).toBe(200);
    expect(await forgot.text()).toContain('action="/account/forgot"');
    const badEmail = await formPost('/account/forgot', { email: 'not an address' }, { origin: PUBLIC_URL });
    expect(badEmail.status).toBe(400);
    expect(await badEmail.text()).toContain('Enter an e-mail address');
    expect((await formPost('/account/forgot', { email: a.email }, { origin: PUBLIC_URL })).status).toBe(200);
    const link = await linkFrom(a.email, /reset your berth password/i, '/account/reset');

    const form = await fetch(link.replace(PUBLIC_URL, store.url));
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('type="password"');
    const token = tokenOf(link);
    const post = (fields: Record<string, string>, origin = PUBLIC_URL) =>
      formPost('/account/reset', { token, ...fields }, { origin });
    const differ = await post({ password: 'a brand new passphrase', again: 'a brand new passphrasf' });
    expect(differ.status).toBe(400);
    expect(await differ.text()).toContain('The two passwords differ');
    expect((await post({ password: 'short', again: 'short' })).status).toBe(400);
    const crossSite = await post(
      { password: 'a brand new passphrase', again: 'a brand new passphrase' },
      'https://evil.example',
    );
    expect(await statusAndCode(crossSite)).toEqual([403, 'cross_origin_refused']);
    // None of the refusals spent the link.
    const ok = await post({ password: 'a brand new passphrase', again: 'a brand new passphrase' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Password changed');
    // Opening the mailed link proved the address: sign-in works without the confirmation link.
    expect((await accountRows(a.email))[0].email_verified_at).not.toBeNull();
    expect((await login(a.email, 'a brand new passphrase')).status).toBe(200);
    const reused = await post({ password: 'other passphrase!!', again: 'other passphrase!!' });
    expect(reused.status).toBe(400);
    expect(await reused.text()).toContain('expired or was already used');
  });

  it('frees the name and address of a sign-up nobody confirmed within 7 days, and nothing else', async () => {
    const stale = fresh('stale');
    const recent = fresh('recent');
    const confirmed = fresh('kept');
    for (const a of [stale, recent, confirmed]) expect((await signUp(a.email, a.slug)).status).toBe(201);
    await postJson(`${store.url}/v1/accounts/verification`, {
      token: tokenOf(await linkFrom(confirmed.email, /confirm your e-mail/i, '/account/verify')),
    });
    await db.query(`UPDATE account SET created_at = now() - interval '8 days' WHERE email = ANY($1)`, [
      [stale.email, confirmed.email],
    ]);
    expect(await store.app.get(UnconfirmedAccountSweeper).sweep()).toBe(1);
    expect(await accountRows(stale.email)).toHaveLength(0);
    expect(await db.query(`SELECT 1 FROM publisher WHERE slug = $1`, [stale.slug])).toHaveLength(0);
    expect(await accountRows(recent.email)).toHaveLength(1);
    expect((await login(confirmed.email)).status).toBe(200);
    // The name is free again, for anyone, and the address gets a fresh confirmation, not "already have one".
    const again = fresh('again');
    expect((await signUp(again.email, stale.slug)).status).toBe(201);
    expect(await db.query(`SELECT 1 FROM publisher WHERE slug = $1`, [stale.slug])).toHaveLength(1);
    expect((await signUp(stale.email, fresh('back').slug)).status).toBe(201);
    await linkFrom(stale.email, /confirm your e-mail/i, '/account/verify', 2);
    expect(await mailsTo(stale.email, /already have a Berth account/i)).toHaveLength(0);
  });
});
