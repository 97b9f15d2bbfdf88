import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createPublisher, Publisher, publishChart, putListing, uploadChart } from '../support/api';
import { launchChromium, screenshot, seriousA11yViolations, watchPage } from '../support/browser';
import { signInLinkIn } from '../support/buyer';
import { HOSTILE_README, tarGz } from '../support/charts';
import { buyerEmail } from '../support/checkout';
import { Helm } from '../support/helm';
import { linkIn, Mailpit, startMailpit } from '../support/mailpit';
import { startStore, StoreProcess } from '../support/store-process';

const README = [
  '# SuperDB',
  'A time-series database for **metrics**, packaged for Kubernetes.',
  '## Configuration',
  'See [the docs](https://superdb.example/docs).',
].join('\n\n');

/** A chart with a README, values and a schema, as publishers ship them. */
function chart(name: string, version: string, readme: string, values: string): Promise<Buffer> {
  return tarGz([
    {
      name: `${name}/Chart.yaml`,
      content: `apiVersion: v2\nname: ${name}\nversion: ${version}\ndescription: ${name} for metrics storage\nkeywords: [database, metrics]\n`,
    },
    { name: `${name}/values.yaml`, content: values },
    {
      name: `${name}/templates/configmap.yaml`,
      content: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n',
    },
    { name: `${name}/README.md`, content: readme },
  ]);
}

/**
 * The storefront in a real browser (Debian's Chromium through playwright-core) against the built app
 * started as `npm start` does, with a real SMTP server (Mailpit): a buyer finds a chart, buys it on the
 * local pay page, installs it with the key from the success page (Helm v3 and v4); a buyer who lost the
 * key gets it back through "My licenses" and rotates it. Every page is checked with axe-core and written
 * to test/artifacts/ as a screenshot.
 */
describe('the storefront in Chromium', () => {
  let mailpit: Mailpit;
  let store: StoreProcess;
  let browser: Browser;
  let context: BrowserContext;
  let acme: Publisher;
  const email = buyerEmail('browser');
  let purchased: { id: string; key: string } | undefined;

  /** Opens a page in the buyer's browser context, failing on anything a page's own script would not do. */
  async function open(path: string): Promise<{ page: Page; seen: ReturnType<typeof watchPage> }> {
    const page = await context.newPage();
    const seen = watchPage(page);
    const res = await page.goto(`${store.url}${path}`);
    expect(res?.status()).toBeLessThan(500);
    return { page, seen };
  }

  async function expectAccessible(page: Page, name: string): Promise<void> {
    await screenshot(page, name);
    expect(await seriousA11yViolations(page)).toEqual([]);
  }

  async function pull(helmVersion: 'helm3' | 'helm4', id: string, key: string) {
    const helm = new Helm(helmVersion);
    const repo = `acme-${helmVersion}`;
    const add = await helm.run(
      'repo',
      'add',
      repo,
      `${store.url}/helm/acme`,
      '--username',
      id,
      '--password',
      key,
    );
    if (add.code !== 0) return add;
    const dir = mkdtempSync(join(tmpdir(), 'berth-pull-'));
    return helm.run('pull', `${repo}/superdb`, '--version', '1.1.0', '-d', dir);
  }

  beforeAll(async () => {
    mailpit = await startMailpit();
    store = await startStore({ SMTP_URL: mailpit.smtpUrl, MAIL_FROM: 'store@berth.example' });
    acme = await createPublisher(store.url, 'acme', ['charts:write', 'listings:write', 'orders:read']);
    await publishChart(
      store.url,
      acme,
      'superdb',
      await chart('superdb', '1.0.0', README, 'replicas: 1\n'),
      4900,
    );
    const v2 = await chart('superdb', '1.1.0', README, 'replicas: 3\nstorage: 10Gi\n');
    expect((await uploadChart(store.url, 'acme', acme.apiToken, v2)).status).toBe(201);
    await publishChart(
      store.url,
      acme,
      'tools',
      await chart('tools', '0.3.0', '# Tools\n\nFree helpers.', 'a: 1\n'),
      0,
    );
    const evil = await chart('evil', '1.0.0', HOSTILE_README, 'x: 1\n');
    expect((await uploadChart(store.url, 'acme', acme.apiToken, evil)).status).toBe(201);
    expect((await putListing(store.url, 'acme', acme.apiToken, 'evil')).status).toBe(200);
    browser = await launchChromium();
    context = await browser.newContext();
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await store?.stop();
    await mailpit?.stop();
  });

  it('finds a chart, shows its README and values, buys it on the local pay page, and the key installs it with Helm v3 and v4', async () => {
    const { page, seen } = await open('/');
    expect(await page.locator('li.card h3 a').allTextContents()).toEqual(
      expect.arrayContaining(['superdb', 'tools']),
    );
    await expectAccessible(page, '01-home');

    await page.fill('#site-q', 'superdb');
    await Promise.all([page.waitForURL(/\/charts\?q=superdb/), page.press('#site-q', 'Enter')]);
    const firstResult = page.locator('li.card h3 a').first();
    expect(await firstResult.textContent()).toBe('superdb');
    await expectAccessible(page, '02-search');

    await Promise.all([page.waitForURL(/\/charts\/acme\/superdb$/), firstResult.click()]);
    expect(await page.locator('.readme h1').textContent()).toBe('SuperDB');
    expect(await page.locator('.readme a[href="https://superdb.example/docs"]').getAttribute('rel')).toBe(
      'nofollow ugc noopener noreferrer',
    );
    expect(await page.content()).toContain('storage: 10Gi');
    await expectAccessible(page, '03-chart');

    // An address the browser accepts but the store does not: the form comes back with the message.
    await page.fill('#buy-email', 'a@b');
    await Promise.all([page.waitForLoadState('load'), page.click('form.buy button[type=submit]')]);
    expect(await page.locator('#buy-error').textContent()).toContain('Enter an e-mail address');
    const orders = await fetch(`${store.url}/v1/publishers/acme/orders`, {
      headers: { authorization: `Bearer ${acme.apiToken}` },
    });
    expect(((await orders.json()) as { orders: unknown[] }).orders).toEqual([]);

    await page.fill('#buy-email', email);
    await Promise.all([page.waitForURL(/\/checkout\/local\//), page.click('form.buy button[type=submit]')]);
    await expectAccessible(page, '04-local-pay');
    await Promise.all([
      page.waitForURL(/\/checkout\/success\?session_id=/),
      page.click('main button[type=submit]'),
    ]);
    const key = (await page.locator('#key').textContent())?.trim() ?? '';
    expect(key).toMatch(/^berth_lic_/);
    const add = (await page.locator('#add').textContent()) ?? '';
    const id = /--username (\S+)/.exec(add)?.[1] ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await expectAccessible(page, '05-success');
    // The copy buttons come from the store's own script (CSP allows nothing inline).
    expect(await page.locator('button[data-copy="key"]').isVisible()).toBe(true);
    expect(seen.errors).toEqual([]);
    purchased = { id, key };

    for (const helm of ['helm3', 'helm4'] as const) {
      const r = await pull(helm, id, key);
      expect([helm, r.code, r.stderr]).toEqual([helm, 0, '']);
    }
    // The same key arrived by e-mail, with a link to My licenses.
    const [mail] = (await mailpit.waitFor(email)).filter((m) => /Your license/.test(m.subject));
    expect(mail.text).toContain(`License id:  ${id}`);
    expect(mail.text).toContain(`${store.url}/my/licenses`);
  }, 120_000);

  it('gets a lost key back through "My licenses" and rotates it: the old key stops, the new one installs', async () => {
    expect(purchased).toBeDefined();
    const { id, key: firstKey } = purchased!;
    const { page } = await open('/my/licenses');
    await expectAccessible(page, '06-sign-in');
    await page.fill('#signin-email', email);
    await Promise.all([page.waitForLoadState('load'), page.click('form.buy button[type=submit]')]);
    expect(await page.locator('h1').textContent()).toBe('Check your e-mail');

    const mails = (await mailpit.waitFor(email, 2)).filter((m) => /sign-in link/i.test(m.subject));
    const link = signInLinkIn(mails[0].text);
    expect(link).toBeDefined();
    await page.goto(link!);
    await Promise.all([page.waitForURL(/\/my\/licenses$/), page.click('main button[type=submit]')]);
    expect(await page.locator(`#lic-${id}`).textContent()).toContain('acme/superdb');
    await expectAccessible(page, '07-my-licenses');

    await Promise.all([
      page.waitForLoadState('load'),
      page.click(`form[action="/my/licenses/${id}/key"] button`),
    ]);
    const shown = (await page.locator(`#key-${id}`).textContent())?.trim() ?? '';
    expect(shown).toMatch(/^berth_lic_/);
    expect((await pull('helm4', id, shown)).code).toBe(0);

    await Promise.all([
      page.waitForLoadState('load'),
      page.click(`form[action="/my/licenses/${id}/rotate"] button`),
    ]);
    expect(await page.locator('[role=status]').textContent()).toContain('The old key no longer works');
    const rotated = (await page.locator(`#key-${id}`).textContent())?.trim() ?? '';
    await expectAccessible(page, '08-rotated');
    for (const old of [firstKey, shown]) {
      const r = await pull('helm3', id, old);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/401|unauthorized/i);
    }
    for (const helm of ['helm3', 'helm4'] as const) expect((await pull(helm, id, rotated)).code).toBe(0);

    // The link was used up by that sign-in.
    await page.goto(link!);
    await page.click('main button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toContain('expired or was already used');
  }, 120_000);

  it("resets a publisher's forgotten password through the mailed link, and the form says what is wrong", async () => {
    const pub = await createPublisher(store.url, 'forgetful', ['charts:read']);
    const { page } = await open('/account/forgot');
    await page.fill('#forgot-email', pub.email);
    await expectAccessible(page, '10-forgot-password');
    await Promise.all([page.waitForLoadState('load'), page.click('form.buy button[type=submit]')]);
    expect(await page.locator('h1').textContent()).toBe('Check your e-mail');

    const [mail] = (await mailpit.waitFor(pub.email, 1)).filter((m) =>
      /reset your berth password/i.test(m.subject),
    );
    const link = linkIn(mail.text, '/account/reset');
    expect(link).toBeDefined();
    await page.goto(link!);
    await page.fill('#reset-password', 'a brand new passphrase');
    await page.fill('#reset-password-again', 'a different passphrase');
    await Promise.all([page.waitForLoadState('load'), page.click('form.buy button[type=submit]')]);
    expect(await page.locator('#reset-password-error').textContent()).toBe('The two passwords differ.');
    await expectAccessible(page, '11-reset-password');
    await page.fill('#reset-password', 'a brand new passphrase');
    await page.fill('#reset-password-again', 'a brand new passphrase');
    await Promise.all([page.waitForLoadState('load'), page.click('form.buy button[type=submit]')]);
    expect(await page.locator('h1').textContent()).toBe('Password changed');
    const login = (password: string) =>
      fetch(`${store.url}/v1/sessions`, {
        method: 'POST',
        body: JSON.stringify({ email: pub.email, password }),
      });
    expect((await login(pub.password)).status).toBe(401);
    expect((await login('a brand new passphrase')).status).toBe(200);
  }, 60_000);

  it('renders a hostile README without running any of it', async () => {
    const { page, seen } = await open('/charts/acme/evil');
    await page.waitForLoadState('load');
    await page.waitForTimeout(300);
    expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
    const hrefs = await page
      .locator('a[href]')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    expect(hrefs.filter((h) => !/^(https?:|\/|#)/.test(h))).toEqual([]);
    expect(
      await page.locator('.readme script, .readme svg, .readme [onerror], .readme [onload]').count(),
    ).toBe(0);
    expect(await page.locator('.readme img[src^="http:"]').count()).toBe(0);
    expect(seen.errors).toEqual([]);
    await expectAccessible(page, '09-hostile-readme');
  }, 120_000);

  it('answers odd searches with a page, never an error', async () => {
    for (const q of ['%', '_', '\\', `"'`, 'x'.repeat(10_000), '🚀 db']) {
      const { page, seen } = await open(`/charts?q=${encodeURIComponent(q)}`);
      expect(await page.locator('h1').count()).toBeGreaterThan(0);
      expect(seen.errors).toEqual([]);
      await page.close();
    }
    const res = await fetch(`${store.url}/charts?q=${encodeURIComponent('x'.repeat(10_000))}`);
    expect(res.status).toBe(200);
  }, 120_000);
});
