import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { PublisherAccessService } from '@berth/accounts';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { PayoutAccounts } from '@berth/payouts';
import { pageHtml, PageContext } from '@berth/storefront';
import type { Request, Response } from 'express';
import { pageContext, sendPage } from './page-response';

/**
 * Where Stripe's onboarding sends the publisher back. The console's cookie is SameSite=Strict, so it does
 * not come along on this cross-site navigation: these pages act without a session and do nothing a stranger
 * could use. The return page only re-reads the account from Stripe (never trusting the redirect); the
 * refresh page mints nothing (a fresh onboarding link lets whoever opens it enter bank details) and sends
 * the publisher to the console, where a signed-in click mints one.
 */
@ApiTags('payouts')
@Controller('payouts')
export class PayoutPagesController {
  private readonly ctx: PageContext;

  constructor(
    private readonly payouts: PayoutAccounts,
    private readonly publishers: PublisherAccessService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ctx = pageContext(config);
  }

  private message(req: Request, res: Response, status: number, title: string, text: string): void {
    sendPage(req, res, status, pageHtml.message(this.ctx, title, text));
  }

  // Declared before the local pages: a publisher named `local` has /payouts/local/return too.
  @Get(':slug/return')
  @ApiOperation({
    summary: "Stripe onboarding's return_url: re-reads the account, then points to the console (HTML)",
  })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'A page with a link to the console.' })
  async returned(@Param('slug') slug: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    this.payouts.assertEnabled();
    const publisher = await this.publishers.findBySlug(slug);
    if (publisher) await this.payouts.refresh(publisher.id);
    this.message(
      req,
      res,
      200,
      'Back from Stripe',
      'Stripe has what you entered. Your payout state is on the console; if Stripe still needs something, continue onboarding from there.',
    );
  }

  @Get(':slug/refresh')
  @ApiOperation({
    summary: "Stripe onboarding's refresh_url: the link expired; continue from the console (HTML)",
  })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'A page with a link to the console.' })
  refresh(@Req() req: Request, @Res() res: Response): void {
    this.payouts.assertEnabled();
    this.message(
      req,
      res,
      200,
      'This onboarding link has expired',
      'Onboarding links work once and for a few minutes. Sign in to the console and choose "Continue payout onboarding" for a fresh one.',
    );
  }

  @Get('local/:accountId')
  @ApiOperation({ summary: 'Local payouts only: the onboarding page (HTML)' })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'The "finish onboarding" button.' })
  localPage(@Param('accountId') accountId: string, @Req() req: Request, @Res() res: Response): void {
    this.payouts.assertEnabled();
    if (!/^local_acct_[0-9a-f]{24}$/.test(accountId)) {
      return this.message(req, res, 404, 'Not found', 'This link does not match any payout account.');
    }
    sendPage(
      req,
      res,
      200,
      pageHtml.localOnboarding(this.ctx, `${this.ctx.basePath}/payouts/local/${accountId}/complete`),
    );
  }

  @Post('local/:accountId/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Local payouts only: finish onboarding; the publisher becomes payable' })
  @ApiResponse({ status: 200, description: 'A page that says so.' })
  @ApiResponse({ status: 404, description: 'payout_account_not_found' })
  async completeLocal(@Param('accountId') accountId: string, @Req() req: Request, @Res() res: Response) {
    this.payouts.assertEnabled();
    await this.payouts.completeLocalOnboarding(accountId);
    this.message(
      req,
      res,
      200,
      'Payouts are set up',
      'Your paid charts are for sale. Back to the console to see your payout state.',
    );
  }
}
