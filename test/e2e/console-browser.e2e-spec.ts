import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshot, seriousA11yViolations, watchPage } from '../support/browser';
import { simpleChart } from '../support/charts';
import { Helm } from '../support/helm';
import { linkIn, Mailpit, startMailpit } from '../support/mailpit';
import { startStore, StoreProcess } from '../support/store-process';

/** RFC 4180 as the export writes it: quoted cells, doubled quotes, CRLF or LF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  const endRow = () => {
    endCell();
    rows.push(row);
    row = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endCell();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
    } else cell += c;
  }
  if (cell || row.length) endRow();
  return rows;
}

/**
 * The publisher's console in Chromium against the built app as `npm start` runs it, with a real SMTP
 * server (Mailpit) and sign-up confirmation required: a publisher signs up, confirms the address from the
 * mail, uploads a chart in the browser, prices and publishes it; a buyer in another browser context buys
 * it; the publisher sees the order and its totals, downloads the CSV, sees the buyer's pulls counted per
 * license and version, revokes the license, and the buyer's next `helm pull` is refused.
 */
describe('the publisher console in Chromium', () => {
  let mailpit: Mailpit;
  let store: StoreProcess;
  let browser: Browser;
  let publisher: BrowserContext;
  let buyer: BrowserContext;
  const email = `owner-${Date.now().toString(36)}@example.test`;
  const password = 'a long console passphrase';
  const buyerEmail = `buyer-${Date.now().toString(36)}@example.test`;
  const seen: Array<ReturnType<typeof watchPage>> = [];

  async function expectAccessible(page: Page, name: string): Promise<void> {
    await screenshot(page, name);
    expect(await seriousA11yViolations(page)).toEqual([]);
  }

  async function submit(page: Page, selector: string): Promise<void> {
    await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
  }

  beforeAll(async () => {
    mailpit = await startMailpit();
    store = await startStore({
      SMTP_URL: mailpit.smtpUrl,
      MAIL_FROM: 'store@berth.example',
      SIGNUP_EMAIL_VERIFICATION: 'required',
    });
    browser = await launchChromium();
    publisher = await browser.newContext({ acceptDownloads: true });
    buyer = await browser.newContext();
  }, 120_000);

  afterAll(async () => {
    await publisher?.close();
    await buyer?.close();
    await browser?.close();
    await store?.stop();
    await mailpit?.stop();
  });

  it('signs up, confirms the address from the mail, uploads, prices and publishes a chart, sells it, counts its pulls and revokes it', async () => {
    const page = await publisher.newPage();
    seen.push(watchPage(page));

    // Sign up: the form's refusal first, then an account that must confirm its address.
    await page.goto(`${store.url}/console/sign-in`);
    await submit(page, 'a[href="/console/sign-up"]');
    await page.fill('#signup-email', email);
    await page.fill('#signup-password', 'short');
    await page.fill('#signup-slug', 'acme');
    await page.fill('#signup-name', 'Acme <Charts>');
    await page.locator('#signup-password').evaluate((el) => el.removeAttribute('minlength'));
    await submit(page, 'form.buy button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toContain('at least 10 characters');
    await page.fill('#signup-password', password);
    await submit(page, 'form.buy button[type=submit]');
    expect(await page.locator('h1').textContent()).toBe('Check your e-mail');
    await expectAccessible(page, 'console-01-signed-up');

    // Signing in before confirming is refused (and mails a new link only after 5 minutes).
    await page.goto(`${store.url}/console/sign-in`);
    await page.fill('#console-email', email);
    await page.fill('#console-password', password);
    await submit(page, 'form.buy button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toMatch(/confirm/i);

    const [mail] = await mailpit.waitFor(email, 1);
    const link = linkIn(mail.text, '/account/verify');
    expect(link).toBeDefined();
    await page.goto(link!);
    await submit(page, 'main form button[type=submit]');
    expect(await page.locator('h1').textContent()).toBe('Address confirmed');

    await page.goto(`${store.url}/console/sign-in`);
    await page.fill('#console-email', email);
    await page.fill('#console-password', password);
    await expectAccessible(page, 'console-02-sign-in');
    await submit(page, 'form.buy button[type=submit]');
    expect(new URL(page.url()).pathname).toBe('/console');
    const cookies = await publisher.cookies();
    expect(cookies.find((c) => c.name === 'berth_console')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
      path: '/console',
    });
    await submit(page, 'a[href="/console/acme/charts"]');

    // Upload in the browser: a broken archive is refused with the API's words, then the real one.
    const dir = mkdtempSync(join(tmpdir(), 'berth-console-'));
    writeFileSync(join(dir, 'broken.tgz'), 'not a chart');
    await page.setInputFiles('#upload-chart', join(dir, 'broken.tgz'));
    await submit(page, 'form[enctype="multipart/form-data"] button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toMatch(/gzip|archive/i);
    const archive = await simpleChart('superdb', '1.0.0');
    writeFileSync(join(dir, 'superdb-1.0.0.tgz'), archive);
    await page.setInputFiles('#upload-chart', join(dir, 'superdb-1.0.0.tgz'));
    await submit(page, 'form[enctype="multipart/form-data"] button[type=submit]');
    expect(await page.locator('[role=status]').textContent()).toBe('The version was uploaded.');
    await expectAccessible(page, 'console-03-charts');

    // Price and publish; the page says what a buyer will read.
    await submit(page, 'a[href="/console/acme/charts/superdb"]');
    await page.fill('#listing-price', '49.00');
    await page.selectOption('#listing-currency', 'usd');
    await page.check('input[name=policy][value=major]');
    await page.check('input[name=published]');
    await submit(page, 'form[action$="/listing"] button[type=submit]');
    expect(await page.locator('[role=status]').textContent()).toBe('The listing was saved.');
    expect(await page.locator('main').textContent()).toContain('Updates for all 1.x releases.');
    await expectAccessible(page, 'console-04-chart');

    // A second browser buys it on the storefront.
    const shop = await buyer.newPage();
    await shop.goto(`${store.url}/charts/acme/superdb`);
    await shop.fill('#buy-email', buyerEmail);
    await Promise.all([shop.waitForURL(/\/checkout\/local\//), shop.click('form.buy button[type=submit]')]);
    await Promise.all([
      shop.waitForURL(/\/checkout\/success\?session_id=/),
      shop.click('main button[type=submit]'),
    ]);
    const key = (await shop.locator('#key').textContent())?.trim() ?? '';
    const licenseId = /--username (\S+)/.exec((await shop.locator('#add').textContent()) ?? '')?.[1] ?? '';
    expect(key).toMatch(/^berth_lic_/);

    await journeyAfterSale(page, { key, licenseId, dir });
  }, 300_000);

  it("refuses another site's form post, and a same-site page of another origin, with the publisher signed in", async () => {
    // The attacker's page: an auto-submitting form aimed at the console, served from elsewhere.
    const target = `${store.url}/console/acme/charts/superdb/versions/1.0.0/yank`;
    const evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<!doctype html><form id=f method=post action="${target}"><input name=x value=1></form>` +
          '<script>document.getElementById("f").submit()</script>',
      );
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const port = (evil.address() as AddressInfo).port;
    try {
      // localhost is another site than 127.0.0.1 (the SameSite=Strict cookie stays home); 127.0.0.1 on
      // another port is the same site but another origin (the cookie goes, the Origin check refuses).
      for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
        const page = await publisher.newPage();
        const answered = page.waitForResponse((r) => r.url() === target);
        await page.goto(`${origin}/`);
        const res = await answered;
        expect([origin, res.status()]).toEqual([origin, 403]);
        expect(await res.text()).toContain('another site');
        await page.close();
      }
    } finally {
      evil.close();
    }
    const check = await publisher.newPage();
    await check.goto(`${store.url}/console/acme/charts/superdb`);
    expect(await check.locator('main').textContent()).not.toMatch(/Yanked/);
    await check.close();
  }, 60_000);

  /** The order, its CSV, the pulls and the revocation: the console side of the sale. */
  async function journeyAfterSale(page: Page, sale: { key: string; licenseId: string; dir: string }) {
    await page.goto(`${store.url}/console/acme/orders`);
    const orders = (await page.locator('main').textContent()) ?? '';
    expect(orders).toContain(buyerEmail);
    expect(orders).toContain('49.00 USD');
    await expectAccessible(page, 'console-05-orders');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('a[href*="export.csv"]'),
    ]);
    const csv = parseCsv(readFileSync((await download.path())!, 'utf8'));
    const header = csv[0];
    const rows = csv.slice(1).filter((r) => r.length > 1);
    expect(rows).toHaveLength(1);
    const row = Object.fromEntries(header.map((h, i) => [h, rows[0][i]]));
    expect(row).toMatchObject({
      chart: 'superdb',
      buyer_email: buyerEmail,
      status: 'paid',
      currency: 'USD',
      amount: '49.00',
      amount_minor: '4900',
    });
    // The same order as the page shows.
    expect(orders).toContain(row.order_id.slice(0, 8));

    // Seven pulls with the key: the console shows exactly seven for that license and version after a flush.
    const auth = `Basic ${Buffer.from(`${sale.licenseId}:${sale.key}`).toString('base64')}`;
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${store.url}/helm/acme/charts/superdb-1.0.0.tgz`, {
        headers: { authorization: auth },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const analytics = `${store.url}/console/acme/analytics?license=${sale.licenseId}`;
    let shown = '';
    for (let i = 0; i < 30 && !shown.includes('7 downloads'); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      await page.goto(analytics);
      shown = (await page.locator('main').textContent()) ?? '';
    }
    expect(shown).toContain(`7 downloads of chart archives`);
    const versionRow = page.locator('tr', { has: page.locator('td', { hasText: /^1\.0\.0$/ }) });
    expect((await versionRow.locator('td').nth(2).textContent())?.trim()).toMatch(/^7(?!\d)/);
    await expectAccessible(page, 'console-06-analytics');

    await page.goto(`${store.url}/console/acme/licenses`);
    const licRow = page.locator(`#license-${sale.licenseId}`);
    expect((await licRow.locator('td').nth(4).textContent())?.trim()).toMatch(/^7(?!\d)/);
    expect(await licRow.textContent()).toContain('1 distinct clients in 30 days');
    await expectAccessible(page, 'console-07-licenses');

    // Revoke with a reason (hostile text stays text); the buyer's next pull is refused.
    await licRow.locator('input[name=note]').fill('<img src=x onerror="window.pwned=1"> refunded');
    await submit(page, `#license-${sale.licenseId} form[action$="/revoke"] button[type=submit]`);
    expect(await page.locator('[role=status]').textContent()).toContain('revoked');
    expect(await page.locator(`#license-${sale.licenseId}`).textContent()).toContain(
      'Note: <img src=x onerror="window.pwned=1"> refunded',
    );
    const helm = new Helm('helm3');
    const add = await helm.run(
      'repo',
      'add',
      'acme',
      `${store.url}/helm/acme`,
      '--username',
      sale.licenseId,
      '--password',
      sale.key,
    );
    const pull = add.code === 0 ? await helm.run('pull', 'acme/superdb', '-d', sale.dir) : add;
    expect(pull.code).not.toBe(0);
    expect(pull.stderr).toMatch(/403|401|revoked/i);

    for (const path of ['audit', 'tokens', 'profile', 'customers']) {
      await page.goto(`${store.url}/console/acme/${path}`);
      await expectAccessible(
        page,
        `console-${path === 'audit' ? '08' : path === 'tokens' ? '09' : path === 'profile' ? '10' : '11'}-${path}`,
      );
    }
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    for (const s of seen) expect(s.errors).toEqual([]);
  }
});
