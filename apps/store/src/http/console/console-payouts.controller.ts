import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { PayoutAccounts, PayoutView } from '@berth/payouts';
import { consoleHtml, ConsolePayoutState, PageContext } from '@berth/storefront';
import type { Request, Response } from 'express';
import { pageContext } from '../page-response';
import { feePercentText } from '../platform-fee-input';
import { Principal } from '../publisher-auth.guard';
import { ConsoleRoute } from './console-auth';
import { formAction, sendConsolePage } from './console-response';

function pageState(v: PayoutView): ConsolePayoutState {
  return {
    status: v.status,
    accountId: v.accountId,
    chargesEnabled: v.chargesEnabled,
    payoutsEnabled: v.payoutsEnabled,
    transfers: v.transfers,
    currentlyDue: v.currentlyDue,
    deauthorized: v.deauthorized,
    payoutFailure: v.payoutFailure,
    feePercent: feePercentText(v.fee.bps),
    feeFixed: Object.entries(v.fee.fixed)
      .map(([currency, amount]) => `${amount} ${currency.toUpperCase()} (smallest unit)`)
      .join(', '),
  };
}

/**
 * The publisher's payouts (PAYOUTS=connect): the state Stripe last reported, and the buttons that mint an
 * onboarding or dashboard link at the moment of the click (a signed-in, same-origin POST) and go there.
 */
@ApiExcludeController()
@Controller('console/:slug/payouts')
export class ConsolePayoutsController {
  private readonly ctx: PageContext;

  constructor(
    private readonly payouts: PayoutAccounts,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ctx = pageContext(config);
  }

  @Get()
  @ConsoleRoute()
  async page(@Principal() { publisher }: PublisherPrincipal, @Req() req: Request, @Res() res: Response) {
    await this.render(req, res, publisher);
  }

  @Post('onboarding')
  @HttpCode(303)
  @ConsoleRoute()
  async onboarding(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    await formAction(
      async () => this.go(res, await this.payouts.onboardingLink(publisher)),
      (notice, status) => this.render(req, res, publisher, notice, status),
    );
  }

  @Post('dashboard')
  @HttpCode(303)
  @ConsoleRoute()
  async dashboard(@Principal() { publisher }: PublisherPrincipal, @Req() req: Request, @Res() res: Response) {
    await formAction(
      async () => this.go(res, await this.payouts.dashboardLink(publisher.id)),
      (notice, status) => this.render(req, res, publisher, notice, status),
    );
  }

  private go(res: Response, url: string): void {
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, url);
  }

  private async render(
    req: Request,
    res: Response,
    publisher: PublisherPrincipal['publisher'],
    notice?: { text: string; error: true },
    status = 200,
  ): Promise<void> {
    const view = this.payouts.enabled ? await this.payouts.view(publisher.id) : null;
    sendConsolePage(
      req,
      res,
      consoleHtml.payouts(this.ctx, { publisher, payouts: view && pageState(view), notice }),
      status,
    );
  }
}
