import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DomainError } from '@berth/common';
import {
  CheckoutService,
  CheckoutState,
  CommerceErrorCode,
  coverageSentence,
  formatMoney,
} from '@berth/commerce';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { licenseCommands } from '@berth/licensing';
import { pageHtml, PageContext } from '@berth/storefront';
import type { Request, Response } from 'express';
import { helmInstructions } from './checkout.controller';
import { ErrorResponseDto } from './common.dto';
import { pageContext, sendPage } from './page-response';

/**
 * The checkout's own pages, in the storefront's look and readable without JavaScript. Their URLs carry the
 * buyer's secret (the session id), so nothing here is cached and no Referer leaves them.
 */
@ApiTags('buying')
@Controller('checkout')
export class CheckoutPagesController {
  private readonly ctx: PageContext;

  constructor(
    private readonly checkout: CheckoutService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.ctx = pageContext(config);
  }

  private send(req: Request, res: Response, status: number, html: string): void {
    sendPage(req, res, status, html, 'no-store');
  }

  private message(req: Request, res: Response, status: number, title: string, text: string): void {
    this.send(req, res, status, pageHtml.message(this.ctx, title, text));
  }

  private async stateOr404(req: Request, res: Response, sessionId: string): Promise<CheckoutState | null> {
    try {
      return await this.checkout.state(String(sessionId ?? ''));
    } catch (e) {
      if (e instanceof DomainError && e.code === CommerceErrorCode.CheckoutNotFound) {
        this.message(req, res, 404, 'Checkout not found', 'This link does not match any checkout.');
        return null;
      }
      throw e;
    }
  }

  @Get('success')
  @ApiOperation({ summary: 'The success page: the license key and the helm commands (HTML)' })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'Paid: key and commands. Pending: refreshes itself.' })
  async success(
    @Query('session_id') sessionId: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const s = await this.stateOr404(req, res, sessionId);
    if (!s) return;
    const chart = `${s.publisherSlug}/${s.chartName}`;
    if (s.status === 'pending') return this.send(req, res, 200, pageHtml.checkoutPending(this.ctx, chart));
    if (!s.license) {
      return this.message(
        req,
        res,
        200,
        'No license',
        `This order is ${s.status}, so no license is available.`,
      );
    }
    const helm = helmInstructions(this.config, s)!;
    const registry = licenseCommands({
      publicUrl: this.config.publicUrl,
      publisher: s.publisherSlug,
      chart: s.chartName,
      licenseId: s.license.id,
      key: s.license.key,
    });
    this.send(
      req,
      res,
      200,
      pageHtml.checkoutSuccess(this.ctx, {
        chart,
        key: s.license.key,
        coverage: coverageSentence(s.license),
        addCommand: helm.addCommand,
        installCommand: `helm repo update\nhelm install ${s.chartName} ${s.publisherSlug}/${s.chartName}`,
        ociInstallCommand: registry.ociInstallCommand,
        pullSecretCommand: registry.pullSecretCommand,
      }),
    );
  }

  @Get('local/:sessionId')
  @ApiOperation({ summary: 'Local provider only: the pay page (HTML)' })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'The pay button.' })
  @ApiResponse({ status: 410, description: 'The checkout has expired: no pay button.' })
  async localPage(
    @Param('sessionId') sessionId: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const s = sessionId.startsWith('local_cs_') ? await this.stateOr404(req, res, sessionId) : null;
    if (!s) {
      if (!res.headersSent)
        this.message(req, res, 404, 'Checkout not found', 'This link does not match any checkout.');
      return;
    }
    const chart = `${s.publisherSlug}/${s.chartName}`;
    if (s.status === 'expired') {
      return this.message(
        req,
        res,
        410,
        'This checkout has expired',
        `Start a new checkout for ${chart} to buy it at today's price.`,
      );
    }
    this.send(
      req,
      res,
      200,
      pageHtml.localPay(this.ctx, {
        chart,
        price: formatMoney(s.amount, s.currency),
        action: `${this.ctx.basePath}/checkout/local/${encodeURIComponent(sessionId)}/pay`,
      }),
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
