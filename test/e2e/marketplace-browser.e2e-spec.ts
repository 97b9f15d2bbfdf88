import type { Browser, Page } from 'playwright-core';
import { createPublisher, publishChart } from '../support/api';
import { launchChromium, screenshot, seriousA11yViolations, watchPage } from '../support/browser';
import { simpleChart } from '../support/charts';
import { startStore, StoreProcess } from '../support/store-process';

/**
 * A marketplace on `npm start` (PAYOUTS=connect, no Stripe) in Chromium: a buyer finds a paid chart not on
 * sale yet; its publisher opens the console's Payouts tab, onboards on the local page, and sees the account
 * enabled; the buyer then buys it, and the order carries the platform fee; the store's operator sees the
 * sale and its fee on the console's marketplace page and sets that publisher's fee.
 */
describe('a marketplace without Stripe, in Chromium', () => {
  let store: StoreProcess;
  let browser: Browser;
  const seen: Array<ReturnType<typeof watchPage>> = [];

  async function expectAccessible(page: Page, name: string): Promise<void> {
    await screenshot(page, name);
    expect(await seriousA11yViolations(page)).toEqual([]);
  }
  async function submit(page: Page, selector: string): Promise<void> {
    await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
  }

  beforeAll(async () => {
    store = await startStore({
      PAYOUTS: 'connect',
      PLATFORM_FEE_BPS: '500',
      OPERATOR_EMAILS: 'boss@example.test',
    });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await store?.stop();
  });

  it('is not on sale until the publisher onboards, then sells with the fee recorded', async () => {
    const pub = await createPublisher(store.url, 'market');
    await publishChart(store.url, pub, 'vault', await simpleChart('vault', '1.0.0'), 4900);

    const buyer = await browser.newContext();
    const shop = await buyer.newPage();
    seen.push(watchPage(shop));
    await shop.goto(`${store.url}/charts/market/vault`);
    expect(await shop.locator('#buy-h').textContent()).toBe('Not on sale yet');
    expect(await shop.locator('form.buy').count()).toBe(0);
    await expectAccessible(shop, 'marketplace-01-not-on-sale');

    const owner = await browser.newContext();
    const page = await owner.newPage();
    seen.push(watchPage(page));
    await page.goto(`${store.url}/console/sign-in`);
    await page.fill('#console-email', pub.email);
    await page.fill('#console-password', pub.password);
    await submit(page, 'form.buy button[type=submit]');
    await submit(page, 'a[href="/console/market/charts"]');
    await submit(page, 'a[href="/console/market/payouts"]');
    expect(await page.locator('#payout-status').getAttribute('data-status')).toBe('not_started');
    await expectAccessible(page, 'marketplace-02-payouts');
    await submit(page, 'form[action$="/payouts/onboarding"] button[type=submit]');
    expect(new URL(page.url()).pathname).toMatch(/^\/payouts\/local\/local_acct_/);
    await expectAccessible(page, 'marketplace-03-local-onboarding');
    await submit(page, 'main form button[type=submit]');
    expect(await page.locator('h1').textContent()).toBe('Payouts are set up');
    await page.goto(`${store.url}/console/market/payouts`);
    expect(await page.locator('#payout-status').getAttribute('data-status')).toBe('enabled');
    expect(await page.locator('main').textContent()).toContain('Platform fee per sale: 5 %');

    // The payout change dropped the store's rendered copy; a reload revalidates the browser's.
    await shop.reload();
    await shop.fill('#buy-email', 'buyer@example.test');
    await Promise.all([shop.waitForURL(/\/checkout\/local\//), shop.click('form.buy button[type=submit]')]);
    await Promise.all([
      shop.waitForURL(/\/checkout\/success\?session_id=/),
      shop.click('main button[type=submit]'),
    ]);
    expect((await shop.locator('#key').textContent())?.trim()).toMatch(/^berth_lic_/);

    const orders = (await (
      await fetch(`${store.url}/v1/publishers/market/orders`, {
        headers: { authorization: `Bearer ${pub.accessToken}` },
      })
    ).json()) as { orders: Array<{ status: string; platformFeeAmount: number | null }> };
    expect(orders.orders.map((o) => [o.status, o.platformFeeAmount])).toEqual([['paid', 245]]);
    await buyer.close();
    await owner.close();

    // The store's operator reads the sale and its fee, and gives this publisher a fee of its own.
    const boss = await createPublisher(store.url, 'boss');
    const ops = await (await browser.newContext()).newPage();
    seen.push(watchPage(ops));
    await ops.goto(`${store.url}/console/sign-in`);
    await ops.fill('#console-email', boss.email);
    await ops.fill('#console-password', boss.password);
    await submit(ops, 'form.buy button[type=submit]');
    await submit(ops, 'a[href="/console/operator"]');
    const sale = ops.locator('#marketplace-report tbody tr');
    expect(await sale.locator('td').allTextContents()).toEqual([
      'market',
      'USD',
      '1',
      '49.00 USD',
      '2.45 USD',
      '0.00 USD',
      '0',
    ]);
    expect(await ops.locator('tr[data-publisher="market"]').textContent()).toContain('paid out');
    await expectAccessible(ops, 'marketplace-04-operator');
    await ops.fill('#fee-slug', 'market');
    await ops.fill('#fee-bps', '300');
    await ops.fill('#fee-fixed', 'usd=25');
    await submit(ops, 'form[action$="/operator/fee"] button[type=submit]');
    expect(await ops.locator('p.notice[role=status]').textContent()).toContain("The publisher's fee was set");
    expect(await ops.locator('tr[data-publisher="market"]').textContent()).toContain(
      '3 % + 0.25 USD (set for this publisher)',
    );
    expect(seen.flatMap((s) => [...s.errors, ...s.console])).toEqual([]);
  }, 120_000);
});
