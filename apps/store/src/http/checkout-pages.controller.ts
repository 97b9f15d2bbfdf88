import { Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DomainError } from '@berth/common';
import { CheckoutService, CheckoutState, CommerceErrorCode, formatMoney } from '@berth/commerce';
import { APP_CONFIG, AppConfig } from '@berth/config';
import type { Response } from 'express';
import { helmInstructions } from './checkout.controller';
import { ErrorResponseDto } from './common.dto';

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
/**
 * The copy buttons' script, served from the store itself (`/assets/copy.js`), so the pages' CSP allows
 * scripts from the same origin only: no inline script, so markup injected into a page could not run.
 */
export const COPY_SCRIPT = `for (const b of document.querySelectorAll('button[data-copy]')) {
  b.addEventListener('click', () => navigator.clipboard.writeText(document.getElementById(b.dataset.copy).textContent).then(() => { b.textContent = 'Copied'; }));
}
`;

/** The checkout pages' policy: nothing but their inline styles, the same-origin copy script and a same-origin form. */
export const CHECKOUT_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function page(
  res: Response,
  status: number,
  title: string,
  body: string,
  opts: { refreshSeconds?: number; basePath?: string } = {},
): void {
  const { refreshSeconds, basePath = '' } = opts;
  // The URL carries the buyer's secret (session id): never let it leak through Referer or caches.
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Content-Security-Policy', CHECKOUT_PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.status(status).type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${refreshSeconds ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}
<title>${esc(title)}</title>
<style>
 body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
 pre{background:#f3f4f6;padding:.75rem;border-radius:6px;white-space:pre-wrap;word-break:break-all}
 button{font:inherit;padding:.4rem .9rem;border-radius:6px;border:1px solid #888;background:#fff;cursor:pointer}
 .pay{background:#1b4dd8;color:#fff;border-color:#1b4dd8;padding:.6rem 1.4rem}
 .note{color:#555;font-size:.9rem}
</style></head><body>
${body}
${body.includes('data-copy=') ? `<script src="${esc(basePath)}/assets/copy.js"></script>` : ''}
</body></html>`);
}

function block(id: string, label: string, text: string): string {
  return `<h3>${esc(label)}</h3><pre id="${id}">${esc(text)}</pre><button type="button" data-copy="${id}">Copy</button>`;
}

/** Small server-rendered pages, readable without JavaScript (the copy buttons are a convenience). */
@ApiTags('buying')
@Controller('checkout')
export class CheckoutPagesController {
  constructor(
    private readonly checkout: CheckoutService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The path part of PUBLIC_URL ("" or e.g. "/store"): behind a proxy that mounts the store under a
   * path, the form must post there. Relative to the page's origin, so `form-action 'self'` holds.
   */
  private get basePath(): string {
    return new URL(this.config.publicUrl).pathname.replace(/\/+$/, '');
  }

  private async stateOr404(res: Response, sessionId: string): Promise<CheckoutState | null> {
    try {
      return await this.checkout.state(String(sessionId ?? ''));
    } catch (e) {
      if (e instanceof DomainError && e.code === CommerceErrorCode.CheckoutNotFound) {
        page(
          res,
          404,
          'Checkout not found',
          '<h1>Checkout not found</h1><p>This link does not match any checkout.</p>',
        );
        return null;
      }
      throw e;
    }
  }

  @Get('success')
  @ApiOperation({ summary: 'The success page: the license key and the helm commands (HTML)' })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'Paid: key and commands. Pending: refreshes itself.' })
  async success(@Query('session_id') sessionId: string, @Res() res: Response): Promise<void> {
    const s = await this.stateOr404(res, sessionId);
    if (!s) return;
    const title = `${s.publisherSlug}/${s.chartName}`;
    if (s.status === 'pending') {
      page(
        res,
        200,
        'Payment processing',
        `<h1>Payment processing…</h1><p>Your payment for <b>${esc(title)}</b> is being confirmed. This page refreshes by itself.</p>`,
        { refreshSeconds: 3, basePath: this.basePath },
      );
      return;
    }
    if (!s.license) {
      page(
        res,
        200,
        'No license',
        `<h1>No license for this checkout</h1><p>This order is <b>${esc(s.status)}</b>, so no license is available.</p>`,
        { basePath: this.basePath },
      );
      return;
    }
    const helm = helmInstructions(this.config, s)!;
    const install = `helm repo update\nhelm install ${s.chartName} ${s.publisherSlug}/${s.chartName}`;
    page(
      res,
      200,
      `License for ${title}`,
      `<h1>Thank you: ${esc(title)} is yours</h1>
<p>Covered versions: <code>${esc(s.license.versionRange)}</code>${s.license.updatesUntil ? `, published before ${esc(s.license.updatesUntil.toISOString().slice(0, 10))}` : ''}.</p>
${block('key', 'License key', s.license.key)}
${block('add', 'Add the Helm repository', helm.addCommand)}
${block('install', 'Install', install)}
<p class="note">Keep the key secret: it is your password to the repository. Bookmark this page to see it again.</p>`,
      { basePath: this.basePath },
    );
  }

  @Get('local/:sessionId')
  @ApiOperation({ summary: 'Local provider only: the pay page (HTML)' })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'The pay button.' })
  @ApiResponse({ status: 410, description: 'The checkout has expired: no pay button.' })
  async localPage(@Param('sessionId') sessionId: string, @Res() res: Response): Promise<void> {
    const s = sessionId.startsWith('local_cs_') ? await this.stateOr404(res, sessionId) : null;
    if (!s) {
      if (!res.headersSent) page(res, 404, 'Checkout not found', '<h1>Checkout not found</h1>');
      return;
    }
    if (s.status === 'expired') {
      page(
        res,
        410,
        'Checkout expired',
        `<h1>This checkout has expired</h1><p>Start a new checkout for <b>${esc(s.publisherSlug)}/${esc(s.chartName)}</b> to buy it at today's price.</p>`,
        { basePath: this.basePath },
      );
      return;
    }
    page(
      res,
      200,
      'Pay (local test payment)',
      `<h1>${esc(s.publisherSlug)}/${esc(s.chartName)}</h1>
<p>Price: <b>${esc(formatMoney(s.amount, s.currency))}</b></p>
<p class="note">This store uses the local payment provider: no money moves. Set STRIPE_SECRET_KEY to take real payments.</p>
<form method="post" action="${esc(this.basePath)}/checkout/local/${esc(encodeURIComponent(sessionId))}/pay"><button class="pay" type="submit">Pay ${esc(formatMoney(s.amount, s.currency))}</button></form>`,
      { basePath: this.basePath },
    );
  }

  @Post('local/:sessionId/pay')
  @HttpCode(303)
  @ApiOperation({ summary: 'Local provider only: pay, then 303 to the success page' })
  @ApiResponse({ status: 303, description: 'To /checkout/success?session_id=…' })
  @ApiResponse({
    status: 409,
    type: ErrorResponseDto,
    description:
      'checkout_expired (past CHECKOUT_EXPIRY_SECONDS), checkout_listing_changed (unpublished, repriced or re-policied since the checkout opened); the order becomes expired',
  })
  async pay(@Param('sessionId') sessionId: string, @Res() res: Response): Promise<void> {
    await this.checkout.payLocal(sessionId);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(
      303,
      `${this.config.publicUrl}/checkout/success?session_id=${encodeURIComponent(sessionId)}`,
    );
  }
}
