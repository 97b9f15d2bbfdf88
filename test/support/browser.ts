import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { Browser, chromium, Page } from 'playwright-core';

/** Debian's Chromium: playwright-core drives it; no browser is downloaded (none can be, here). */
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of every page a browser suite visits (ignored by git). */
export const ARTIFACTS = resolve(__dirname, '..', 'artifacts');

export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
  } catch (e) {
    throw new Error(
      `Chromium did not start from ${CHROMIUM} (${(e as Error).message}); install it: apt-get install chromium (or run scripts/install-tools.sh as root)`,
    );
  }
}

/** Writes a full-page screenshot to test/artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** axe-core's serious and critical violations on the page as it is now, as readable lines. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/**
 * Records what would show that something ran or broke on a page: uncaught errors and console errors
 * (a blocked inline script reports a CSP violation there).
 */
export function watchPage(page: Page): { errors: string[]; console: string[] } {
  const seen = { errors: [] as string[], console: [] as string[] };
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') seen.console.push(m.text());
  });
  return seen;
}
