import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { PublisherAccessService } from '@berth/accounts';
import { formatMoney, MarketplaceReport } from '@berth/commerce';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { FeePolicy, PayoutAccounts } from '@berth/payouts';
import { consoleHtml, OperatorFeeForm, PageContext } from '@berth/storefront';
import type { Request, Response } from 'express';
import { formField, queryField } from '../form-field';
import { HttpErrors } from '../http-errors';
import { pageContext } from '../page-response';
import { feeFromForm, feePercentText, feePublisherId } from '../platform-fee-input';
import { ConsoleOperatorRoute } from './console-auth';
import { doneNotice, formAction, redirectDone, sendConsolePage } from './console-response';

const PUBLISHERS_PER_PAGE = 50;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function feeWords(fee: FeePolicy): string {
  const fixed = Object.entries(fee.fixed)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, amount]) => formatMoney(amount, currency));
  const percent = feePercentText(fee.bps);
  return fixed.length ? `${percent} + ${fixed.join(' or ')}` : percent;
}

/**
 * The operator's marketplace page: the API's GET /v1/operator/marketplace and /v1/operator/publishers,
 * and its platform-fee override as a form. Registered before the publisher console, whose `:slug` would
 * otherwise take `operator` (a reserved publisher name).
 */
@ApiExcludeController()
@Controller('console/operator')
export class ConsoleOperatorController {
  private readonly ctx: PageContext;

  constructor(
    private readonly report: MarketplaceReport,
    private readonly payouts: PayoutAccounts,
    private readonly publishers: PublisherAccessService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ctx = pageContext(config);
  }

  @Get()
  @ConsoleOperatorRoute()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    await formAction(
      () => this.render(req, res, { notice: doneNotice(req) }),
      (notice, status) => this.render(req, res, { notice, status, ignorePeriod: true }),
    );
  }

  @Post('fee')
  @HttpCode(303)
  @ConsoleOperatorRoute()
  async setFee(@Req() req: Request, @Res() res: Response): Promise<void> {
    const form: OperatorFeeForm = {
      slug: formField(req, 'slug'),
      bps: formField(req, 'bps'),
      fixed: formField(req, 'fixed'),
    };
    await formAction(
      async () => {
        const fee = feeFromForm(form);
        await this.payouts.setFeeOverride(await feePublisherId(this.publishers, form.slug), fee);
        redirectDone(res, `${this.ctx.basePath}/console/operator`, 'feeSet');
      },
      (notice, status) => this.render(req, res, { notice, status, fee: form, ignorePeriod: true }),
    );
  }

  @Post('fee/clear')
  @HttpCode(303)
  @ConsoleOperatorRoute()
  async clearFee(@Req() req: Request, @Res() res: Response): Promise<void> {
    await formAction(
      async () => {
        await this.payouts.setFeeOverride(
          await feePublisherId(this.publishers, formField(req, 'slug')),
          null,
        );
        redirectDone(res, `${this.ctx.basePath}/console/operator`, 'feeCleared');
      },
      (notice, status) => this.render(req, res, { notice, status, ignorePeriod: true }),
    );
  }

  private async render(
    req: Request,
    res: Response,
    opts: {
      notice?: { text: string; error?: boolean };
      status?: number;
      fee?: OperatorFeeForm;
      /** A refusal is shown over the unfiltered report (the period typed may be what was refused). */
      ignorePeriod?: boolean;
    },
  ): Promise<void> {
    const period = opts.ignorePeriod
      ? { from: '', to: '' }
      : { from: queryField(req, 'from'), to: queryField(req, 'to') };
    for (const [name, value] of Object.entries(period))
      if (value && (!DAY.test(value) || Number.isNaN(Date.parse(value))))
        throw HttpErrors.ValidationFailed([`${name} must be a date, like 2026-12-01`]);
    const to = period.to ? new Date(Date.parse(period.to) + 86_400_000) : undefined;
    const after = opts.ignorePeriod ? '' : queryField(req, 'after');
    const [report, publishers] = await Promise.all([
      this.report.summary({ from: period.from ? new Date(period.from) : undefined, to }),
      this.payouts.enabled
        ? this.payouts.overview({ after: after || undefined, limit: PUBLISHERS_PER_PAGE + 1 })
        : null,
    ]);
    const page = publishers?.slice(0, PUBLISHERS_PER_PAGE) ?? null;
    const html = consoleHtml.operator(this.ctx, {
      period,
      rows: report.rows.map((r) => ({
        publisher: r.publisher,
        currency: r.currency,
        sales: r.sales,
        gross: formatMoney(r.gross, r.currency),
        platformFees: formatMoney(r.platformFees, r.currency),
        refunded: formatMoney(r.refunded, r.currency),
        openDisputes: r.openDisputes,
        disputed: formatMoney(r.disputedAmount, r.currency),
      })),
      exposure: report.exposure.map((e) => ({
        currency: e.currency,
        openDisputes: e.openDisputes,
        amount: formatMoney(e.amount, e.currency),
      })),
      publishers:
        page?.map((p) => ({
          slug: p.slug,
          displayName: p.displayName,
          status: p.status,
          currentlyDue: p.currentlyDue,
          fee: feeWords(p.fee),
          override: p.fee.override,
        })) ?? null,
      nextPublishers: publishers && publishers.length > PUBLISHERS_PER_PAGE ? page!.at(-1)!.slug : null,
      fee: opts.fee,
      notice: opts.notice,
    });
    sendConsolePage(req, res, html, opts.status);
  }
}
