import { Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { DownloadStats } from '@berth/analytics';
import { PublisherCharts } from '@berth/catalog';
import {
  coverageSentence,
  CustomerTimeline,
  CustomerTimelineView,
  formatMoney,
  LicenseGrantService,
  LicenseMailResend,
  OrderRefunds,
  OrdersService,
} from '@berth/commerce';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { LicenseService } from '@berth/licensing';
import {
  ConsoleGrantForm,
  ConsoleListFilters,
  consoleHtml,
  ConsoleLicenseRow,
  ConsoleOrderRow,
  ConsoleOrderTotalsRow,
  PageContext,
} from '@berth/storefront';
import type { Request, Response } from 'express';
import { Audited, auditSubject, param } from '../audited';
import {
  GrantLicenseDto,
  LicenseListQueryDto,
  OrderFilterQueryDto,
  OrderListQueryDto,
  RevokeLicenseDto,
} from '../commerce.dto';
import { CustomerQueryDto } from '../customers.controller';
import { formField, queryField } from '../form-field';
import { listDates } from '../list-dates';
import { streamOrdersCsv } from '../orders-csv-stream';
import { pageContext } from '../page-response';
import { Principal } from '../publisher-auth.guard';
import { validateDto } from '../validate-dto';
import { ConsoleRoute } from './console-auth';
import { doneNotice, formAction, redirectDone, sendConsolePage } from './console-response';

type Publisher = PublisherPrincipal['publisher'];
type Notice = { text: string; error?: boolean };

const FILTER_KEYS = ['status', 'chart', 'email', 'from', 'to'] as const;
const NO_FILTERS = { typed: { status: '', chart: '', email: '', from: '', to: '' }, set: {} };
const PAGE_SIZE = 50;
const minute = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ');
const day = (d: Date) => d.toISOString().slice(0, 10);

/** The list filters as typed, and the ones set as a plain object for the DTOs. */
function filtersOf(req: Request): { typed: ConsoleListFilters; set: Record<string, string> } {
  const typed = Object.fromEntries(
    FILTER_KEYS.map((k) => [k, queryField(req, k).slice(0, k === 'email' ? 320 : 64)]),
  ) as unknown as ConsoleListFilters;
  const set = Object.fromEntries(Object.entries(typed).filter(([, v]) => v !== ''));
  return { typed, set };
}

const queryString = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/**
 * The console's sales sections: orders (filters, totals, CSV, refunds), licenses (filters, downloads,
 * revoke with a note, reinstate, grant, resend the e-mail) and customers (a buyer's timeline). Every
 * action is also a /v1 endpoint; these routes are their forms, with the same services and refusals.
 */
@ApiExcludeController()
@Controller('console/:slug')
export class ConsoleSalesController {
  private readonly ctx: PageContext;

  constructor(
    private readonly orders: OrdersService,
    private readonly refunds: OrderRefunds,
    private readonly licenses: LicenseService,
    private readonly grants: LicenseGrantService,
    private readonly resends: LicenseMailResend,
    private readonly timeline: CustomerTimeline,
    private readonly downloads: DownloadStats,
    private readonly charts: PublisherCharts,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.ctx = pageContext(config);
  }

  // ── Orders ────────────────────────────────────────────────────────────────────────────────────────

  @Get('orders')
  @ConsoleRoute()
  async orderList(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.renderOrders(req, res, publisher, doneNotice(req));
  }

  @Get('orders/export.csv')
  @ConsoleRoute()
  async exportCsv(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const q = await validateDto(OrderFilterQueryDto, filtersOf(req).set);
    await streamOrdersCsv(res, this.orders, publisher, { ...q, ...listDates(q) });
  }

  @Post('orders/:id/refund')
  @HttpCode(303)
  @ConsoleRoute()
  @Audited('order_refunded', param('id'))
  async refund(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await formAction(
      async () => {
        await this.refunds.refund(publisher.id, id);
        redirectDone(res, `${this.base(publisher)}/orders`, 'refunded');
      },
      (notice, status) => this.renderOrders(req, res, publisher, notice, status, false),
    );
  }

  // ── Licenses ──────────────────────────────────────────────────────────────────────────────────────

  @Get('licenses')
  @ConsoleRoute()
  async licenseList(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.renderLicenses(req, res, publisher, doneNotice(req));
  }

  @Post('licenses/grant')
  @HttpCode(200)
  @ConsoleRoute()
  @Audited('license_granted')
  async grant(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const typed: ConsoleGrantForm = {
      chart: formField(req, 'chart').slice(0, 63),
      email: formField(req, 'email').slice(0, 320),
      versionRange: formField(req, 'versionRange').slice(0, 255),
    };
    await formAction(
      async () => {
        const dto = await validateDto(GrantLicenseDto, {
          chart: formField(req, 'chart'),
          email: formField(req, 'email'),
          ...(formField(req, 'versionRange') ? { versionRange: formField(req, 'versionRange') } : {}),
        });
        const l = await this.grants.grant(publisher, dto.chart, dto.email, dto.versionRange);
        auditSubject(req, `${l.id} (${l.chart} ${l.versionRange} for ${l.buyerEmail})`);
        // The key is on this answer only (no-store), never in a URL: a reload does not show it again.
        sendConsolePage(
          req,
          res,
          consoleHtml.granted(this.ctx, {
            publisher,
            license: {
              id: l.id,
              chart: l.chart,
              buyerEmail: l.buyerEmail,
              coverage: coverageSentence(l),
              key: l.key,
            },
          }),
        );
      },
      (notice, status) => this.renderLicenses(req, res, publisher, notice, status, typed, false),
    );
  }

  @Post('licenses/:id/revoke')
  @HttpCode(303)
  @ConsoleRoute()
  @Audited('license_revoked', param('id'))
  async revoke(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.licenseAction(req, res, publisher, 'revoked', async () => {
      const note = formField(req, 'note');
      const dto = await validateDto(RevokeLicenseDto, note ? { note } : {});
      await this.licenses.requireForPublisher(publisher.id, id);
      await this.licenses.revoke(
        { id, publisherId: publisher.id },
        'revoked_by_publisher',
        undefined,
        dto.note,
      );
    });
  }

  @Post('licenses/:id/reinstate')
  @HttpCode(303)
  @ConsoleRoute()
  @Audited('license_reinstated', param('id'))
  async reinstate(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.licenseAction(req, res, publisher, 'reinstated', async () => {
      await this.licenses.reinstateComplimentary(publisher.id, id);
    });
  }

  @Post('licenses/:id/resend')
  @HttpCode(303)
  @ConsoleRoute()
  @Audited('license_mail_resent', param('id'))
  async resend(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.licenseAction(req, res, publisher, 'resent', () => this.resends.resend(publisher.id, id));
  }

  // ── Customers ─────────────────────────────────────────────────────────────────────────────────────

  @Get('customers')
  @ConsoleRoute()
  async customers(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const q = queryField(req, 'q');
    const page = (t: CustomerTimelineView | null, notice?: Notice, status = 200) =>
      sendConsolePage(
        req,
        res,
        consoleHtml.customers(this.ctx, {
          publisher,
          q: q.slice(0, 320),
          customer: t
            ? { email: t.email, orders: t.orders, licenses: t.licenses, truncated: t.truncated }
            : null,
          events: (t?.events ?? []).map((e) => ({
            when: e.wholeDay ? day(e.at) : minute(e.at),
            type: e.type,
            chart: e.chart,
            orderId: e.orderId,
            licenseId: e.licenseId,
            detail: e.detail,
          })),
          notice,
        }),
        status,
      );
    if (!q) return page(null);
    await formAction(
      async () => {
        const dto = await validateDto(CustomerQueryDto, { q });
        page(await this.timeline.lookup(publisher.id, dto.q));
      },
      (notice, status) => page(null, notice, status),
    );
  }

  // ── Rendering ─────────────────────────────────────────────────────────────────────────────────────

  private base(publisher: Publisher): string {
    return `${this.ctx.basePath}/console/${publisher.slug}`;
  }

  /** A license action from the list: back to the list when done, the list with the refusal when not. */
  private async licenseAction(
    req: Request,
    res: Response,
    publisher: Publisher,
    done: 'revoked' | 'reinstated' | 'resent',
    work: () => Promise<void>,
  ): Promise<void> {
    await formAction(
      async () => {
        await work();
        redirectDone(res, `${this.base(publisher)}/licenses`, done);
      },
      (notice, status) => this.renderLicenses(req, res, publisher, notice, status, undefined, false),
    );
  }

  /**
   * The orders page for the query's filters. `useQuery` false: after a refused action (a POST, whose
   * query is not the list's), the first page without filters.
   */
  private async renderOrders(
    req: Request,
    res: Response,
    publisher: Publisher,
    notice?: Notice,
    status = 200,
    useQuery = true,
  ): Promise<void> {
    const { typed, set } = useQuery ? filtersOf(req) : NO_FILTERS;
    const cursor = useQuery ? queryField(req, 'cursor') : '';
    // Not on the form: a page size other than PAGE_SIZE, kept by "Next page" (the API's `limit`).
    const limit = useQuery ? queryField(req, 'limit') : '';
    const paging = { ...set, ...(limit ? { limit } : {}) };
    const show = (
      rows: ConsoleOrderRow[],
      totals: ConsoleOrderTotalsRow[],
      next: string | null,
      n?: Notice,
      s = status,
    ) =>
      sendConsolePage(
        req,
        res,
        consoleHtml.orders(this.ctx, {
          publisher,
          filters: typed,
          totals,
          orders: rows,
          query: queryString(set),
          nextHref: next,
          notice: n,
        }),
        s,
      );
    await formAction(
      async () => {
        const q = await validateDto(OrderListQueryDto, {
          limit: PAGE_SIZE,
          ...paging,
          ...(cursor ? { cursor } : {}),
        });
        const { status: orderStatus, chart, email } = q;
        const filter = { status: orderStatus, chart, email, ...listDates(q) };
        const [page, totals] = await Promise.all([
          this.orders.list(publisher.id, { ...filter, cursor: q.cursor, limit: q.limit }),
          this.orders.totals(publisher.id, filter),
        ]);
        show(
          page.orders.map((o) => ({
            id: o.id,
            created: minute(o.createdAt),
            chart: o.chart,
            buyerEmail: o.buyerEmail,
            amount: formatMoney(o.amount, o.currency),
            refunded: o.refundedAmount ? formatMoney(o.refundedAmount, o.currency) : null,
            status: o.status,
            provider: o.provider,
            refundable: o.status === 'paid',
          })),
          totals.map((t) => ({
            currency: t.currency,
            paidOrders: t.paidOrders,
            gross: formatMoney(t.gross, t.currency),
            refunded: formatMoney(t.refunded, t.currency),
            net: formatMoney(t.net, t.currency),
            openDisputes: t.openDisputes,
            disputed: formatMoney(t.disputedAmount, t.currency),
          })),
          page.nextCursor
            ? `${this.base(publisher)}/orders?${queryString({ ...paging, cursor: page.nextCursor })}`
            : null,
          notice,
        );
      },
      // A bad filter or cursor: the form with what was typed, and why.
      (refusal, s) => show([], [], null, refusal, s),
    );
  }

  private async renderLicenses(
    req: Request,
    res: Response,
    publisher: Publisher,
    notice?: Notice,
    status = 200,
    grant: ConsoleGrantForm = { chart: '', email: '', versionRange: '' },
    useQuery = true,
  ): Promise<void> {
    const { typed, set } = useQuery ? filtersOf(req) : NO_FILTERS;
    const cursor = useQuery ? queryField(req, 'cursor') : '';
    // Not on the form: a page size other than PAGE_SIZE, kept by "Next page" (the API's `limit`).
    const limit = useQuery ? queryField(req, 'limit') : '';
    const paging = { ...set, ...(limit ? { limit } : {}) };
    const charts = (await this.charts.list(publisher.id)).map((c) => c.name);
    const show = (rows: ConsoleLicenseRow[], next: string | null, n?: Notice, s = status) =>
      sendConsolePage(
        req,
        res,
        consoleHtml.licenses(this.ctx, {
          publisher,
          filters: typed,
          licenses: rows,
          nextHref: next,
          charts,
          grant,
          notice: n,
        }),
        s,
      );
    await formAction(
      async () => {
        const q = await validateDto(LicenseListQueryDto, {
          limit: PAGE_SIZE,
          ...paging,
          ...(cursor ? { cursor } : {}),
        });
        const page = await this.licenses.list(publisher.id, { ...q, ...listDates(q) });
        const pulls = await this.downloads.forLicenses(page.licenses.map((l) => l.id));
        const threshold = this.config.analytics.sharingThreshold;
        show(
          page.licenses.map((l) => {
            const d = pulls.get(l.id)!;
            return {
              id: l.id,
              buyerEmail: l.buyerEmail,
              chart: l.chart,
              status: l.status,
              coverage: coverageSentence(l),
              issued: day(l.issuedAt),
              orderId: l.orderId,
              reason: l.reason,
              note: l.publisherNote,
              pulls: d.pulls,
              firstPull: d.firstPullOn,
              lastPull: d.lastPullOn,
              distinctClients30d: d.distinctClients30d,
              sharingSuspected: d.distinctClientsLastDay > threshold,
              reinstatable: !l.orderId && l.status === 'revoked' && l.reason === 'revoked_by_publisher',
            };
          }),
          page.nextCursor
            ? `${this.base(publisher)}/licenses?${queryString({ ...paging, cursor: page.nextCursor })}`
            : null,
          notice,
        );
      },
      (refusal, s) => show([], null, refusal, s),
    );
  }
}
