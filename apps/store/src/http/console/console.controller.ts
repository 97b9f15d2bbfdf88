import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  AccountRegistrationService,
  ConsoleSessions,
  Operators,
  PublisherPrincipal,
  SessionService,
} from '@berth/accounts';
import { DownloadStats } from '@berth/analytics';
import {
  ChartYankService,
  ListingService,
  PublisherCharts,
  SUPPORTED_CURRENCIES,
  UpdatePolicyKind,
  CatalogErrors,
} from '@berth/catalog';
import { decimalAmount, formatMoney, minorUnits } from '@berth/commerce';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { CatalogPages, consoleHtml, coverageToday, ListingForm, PageContext } from '@berth/storefront';
import type { Request, Response } from 'express';
import { CreateAccountDto } from '../accounts.dto';
import { Audited, auditSubject, param, rememberAccount } from '../audited';
import { ClientLimits } from '../client-limits';
import { cookieValue } from '../buyer-session';
import { ChartIntake } from '../chart-intake';
import { clientKey } from '../client-key';
import { formField } from '../form-field';
import { HttpErrors } from '../http-errors';
import { pageContext } from '../page-response';
import { validateDto } from '../validate-dto';
import { Principal } from '../publisher-auth.guard';
import {
  assertConsoleOrigin,
  clearConsoleCookie,
  CONSOLE_COOKIE,
  ConsoleAccount,
  ConsoleRoute,
  setConsoleCookie,
} from './console-auth';
import { doneNotice, formAction, redirectDone, sendConsolePage } from './console-response';

const POLICY_KINDS = new Set<UpdatePolicyKind>(['all', 'major', 'minor', 'window']);
const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The publisher's console: signing in and out, the publishers of the account, charts with their
 * versions, uploads, yanks and listings. Each action is also a /v1 (or ChartMuseum) endpoint; these
 * routes are their forms, with the same services and the same refusals.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  private readonly ctx: PageContext;

  constructor(
    private readonly sessions: SessionService,
    private readonly registration: AccountRegistrationService,
    private readonly limits: ClientLimits,
    private readonly consoleSessions: ConsoleSessions,
    private readonly operators: Operators,
    private readonly charts: PublisherCharts,
    private readonly listings: ListingService,
    private readonly yanks: ChartYankService,
    private readonly intake: ChartIntake,
    private readonly downloads: DownloadStats,
    private readonly pages: CatalogPages,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.ctx = pageContext(config);
  }

  @Get('sign-in')
  signInPage(@Req() req: Request, @Res() res: Response): void {
    sendConsolePage(req, res, consoleHtml.signIn(this.ctx));
  }

  @Post('sign-in')
  @HttpCode(303)
  @Audited('signed_in', (req) => String((req.body as { email?: unknown } | undefined)?.email ?? ''))
  async signIn(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertConsoleOrigin(req, this.config);
    const email = formField(req, 'email');
    await formAction(
      async () => {
        const account = await this.sessions.checkLogin(
          email,
          formField(req, 'password', { trim: false }),
          clientKey(req.ip ?? req.socket.remoteAddress),
        );
        setConsoleCookie(res, this.config, await this.consoleSessions.open(account));
        rememberAccount(req, account.id);
        res.setHeader('Cache-Control', 'no-store');
        res.redirect(303, `${this.ctx.basePath}/console`);
      },
      (notice, status) =>
        sendConsolePage(
          req,
          res,
          consoleHtml.signIn(this.ctx, { email: email.slice(0, 320), error: notice.text }),
          status,
        ),
    );
  }

  @Get('sign-up')
  signUpPage(@Req() req: Request, @Res() res: Response): void {
    sendConsolePage(req, res, consoleHtml.signUp(this.ctx));
  }

  @Post('sign-up')
  @HttpCode(200)
  async signUp(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertConsoleOrigin(req, this.config);
    const values = {
      email: formField(req, 'email').slice(0, 320),
      slug: formField(req, 'slug').slice(0, 40),
      displayName: formField(req, 'displayName').slice(0, 100),
    };
    await formAction(
      async () => {
        // The API's own DTO and rules: the same refusals, worded the same.
        const dto = await validateDto(CreateAccountDto, {
          email: formField(req, 'email'),
          password: formField(req, 'password', { trim: false }),
          publisher: { slug: formField(req, 'slug'), displayName: formField(req, 'displayName') },
        });
        await this.limits.consume('signup', req);
        const account = await this.registration.register(dto);
        sendConsolePage(
          req,
          res,
          consoleHtml.checkMail(this.ctx, {
            email: values.email,
            needed: account.emailVerification === 'sent',
          }),
        );
      },
      (notice, status) =>
        sendConsolePage(req, res, consoleHtml.signUp(this.ctx, { values, error: notice.text }), status),
    );
  }

  @Post('sign-out')
  @HttpCode(303)
  async signOut(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertConsoleOrigin(req, this.config);
    await this.consoleSessions.close(cookieValue(req, CONSOLE_COOKIE));
    clearConsoleCookie(res, this.config);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, `${this.ctx.basePath}/console/sign-in`);
  }

  @Post('sign-out-everywhere')
  @HttpCode(303)
  @ConsoleRoute()
  @Audited('signed_out_everywhere', () => 'account')
  async signOutEverywhere(
    @ConsoleAccount() accountId: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.sessions.signOutEverywhere(accountId);
    rememberAccount(req, accountId);
    clearConsoleCookie(res, this.config);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, `${this.ctx.basePath}/console/sign-in`);
  }

  @Get()
  @ConsoleRoute()
  async home(@ConsoleAccount() accountId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const [email, publishers, operator] = await Promise.all([
      this.consoleSessions.email(accountId),
      this.consoleSessions.publishersOf(accountId),
      this.operators.isOperator(accountId),
    ]);
    sendConsolePage(req, res, consoleHtml.home(this.ctx, { email, publishers, operator }));
  }

  @Get(':slug')
  @ConsoleRoute()
  publisherHome(@Principal() { publisher }: PublisherPrincipal, @Res() res: Response): void {
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, `${this.ctx.basePath}/console/${publisher.slug}/charts`);
  }

  @Get(':slug/charts')
  @ConsoleRoute()
  async chartList(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.renderCharts(req, res, publisher, doneNotice(req));
  }

  @Post(':slug/charts/upload')
  @HttpCode(303)
  @ConsoleRoute()
  @Audited('chart_uploaded')
  async upload(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await formAction(
      async () => {
        auditSubject(req, await this.intake.receive(publisher.id, req));
        redirectDone(res, `${this.ctx.basePath}/console/${publisher.slug}/charts`, 'uploaded');
      },
      (notice, status) => this.renderCharts(req, res, publisher, notice, status),
    );
  }

  @Get(':slug/charts/:name')
  @ConsoleRoute()
  async chart(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('name') name: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.renderChart(req, res, publisher, name, doneNotice(req));
  }

  @Post(':slug/charts/:name/listing')
  @HttpCode(303)
  @ConsoleRoute()
  @Audited('listing_changed', param('name'))
  async saveListing(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('name') name: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const form: ListingForm = {
      price: formField(req, 'price'),
      currency: formField(req, 'currency').toLowerCase(),
      policy: formField(req, 'policy'),
      months: formField(req, 'months'),
      published: formField(req, 'published') === 'on',
    };
    await formAction(
      async () => {
        if (!SUPPORTED_CURRENCIES.has(form.currency)) throw CatalogErrors.CurrencyInvalid(form.currency);
        const amount = minorUnits(form.price, form.currency);
        if (amount === null) throw HttpErrors.PriceTextInvalid(form.currency);
        const kind = form.policy as UpdatePolicyKind;
        if (!POLICY_KINDS.has(kind)) throw CatalogErrors.UpdatePolicyInvalid();
        const months = kind === 'window' ? Number(form.months) : undefined;
        if (months !== undefined && !(Number.isInteger(months) && months >= 1 && months <= 120))
          throw CatalogErrors.UpdatePolicyInvalid();
        await this.listings.upsert(publisher.id, name, {
          price: { amount, currency: form.currency },
          updatePolicy: { kind, months },
          published: form.published,
        });
        redirectDone(res, this.chartUrl(publisher.slug, name), 'listing');
      },
      (notice, status) => this.renderChart(req, res, publisher, name, notice, status, form),
    );
  }

  @Post(':slug/charts/:name/versions/:version/yank')
  @HttpCode(303)
  @ConsoleRoute()
  @Audited('chart_yanked', param('name', 'version'))
  async yank(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('name') name: string,
    @Param('version') version: string,
    @Res() res: Response,
  ): Promise<void> {
    await this.yanks.yank(publisher.id, name, version);
    redirectDone(res, this.chartUrl(publisher.slug, name), 'yanked');
  }

  @Get(':slug/charts/:name/preview')
  @ConsoleRoute()
  async preview(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('name') name: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const m = await this.pages.chart(publisher.slug, name, { now: new Date(), draft: true });
    if (!m) throw CatalogErrors.ChartNotFound(`${name} has no listing or no live version to preview.`);
    sendConsolePage(req, res, consoleHtml.preview(this.ctx, m));
  }

  private chartUrl(slug: string, name: string): string {
    return `${this.ctx.basePath}/console/${slug}/charts/${encodeURIComponent(name)}`;
  }

  private async renderCharts(
    req: Request,
    res: Response,
    publisher: PublisherPrincipal['publisher'],
    notice?: { text: string; error?: boolean },
    status = 200,
  ): Promise<void> {
    const list = await this.charts.list(publisher.id);
    const recent = await this.downloads.recentByChart(list.map((c) => c.id));
    const charts = list.map((c) => ({
      name: c.name,
      liveVersions: c.liveVersions,
      latestVersion: c.latestVersion,
      price: c.listing
        ? c.listing.priceAmount === 0
          ? 'Free'
          : formatMoney(c.listing.priceAmount, c.listing.currency)
        : null,
      published: c.listing?.published ?? false,
      downloads: recent.get(c.id) ?? 0,
    }));
    sendConsolePage(req, res, consoleHtml.charts(this.ctx, { publisher, charts, notice }), status);
  }

  private async renderChart(
    req: Request,
    res: Response,
    publisher: PublisherPrincipal['publisher'],
    name: string,
    notice?: { text: string; error?: boolean },
    status = 200,
    typed?: ListingForm,
  ): Promise<void> {
    const found = await this.charts.versions(publisher.id, name);
    if (!found) throw CatalogErrors.ChartNotFound(`No chart named ${name}.`);
    const [listing, pulls] = await Promise.all([
      this.listings.find(publisher.id, name),
      this.downloads.forChart(found.chartId),
    ]);
    const live = found.versions
      .filter((v) => !v.yankedAt)
      .map((v) => ({ version: v.version, created: v.createdAt }));
    const policy = listing
      ? { kind: listing.updatePolicy, months: listing.updateWindowMonths ?? undefined }
      : null;
    const form: ListingForm = typed ?? {
      price: listing ? decimalAmount(listing.priceAmount, listing.currency) : '0',
      currency: listing?.currency ?? 'usd',
      policy: listing?.updatePolicy ?? 'all',
      months: listing?.updateWindowMonths ? String(listing.updateWindowMonths) : '',
      published: listing?.published ?? false,
    };
    const html = consoleHtml.chart(this.ctx, {
      publisher,
      chart: name,
      versions: found.versions.map((v) => ({
        version: v.version,
        appVersion: v.appVersion,
        size: v.size,
        digest: v.digest,
        signed: v.signed,
        created: day(v.createdAt),
        yanked: v.yankedAt ? day(v.yankedAt) : null,
        downloads: pulls.byVersion.get(v.version) ?? 0,
      })),
      listing: form,
      policySentence: policy ? coverageToday(policy, live, new Date()).sentence : null,
      listed: !!listing && live.length > 0,
      currencies: [...SUPPORTED_CURRENCIES].sort(),
      notice,
    });
    sendConsolePage(req, res, html, status);
  }
}
