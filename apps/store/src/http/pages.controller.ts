import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { isEmail } from 'class-validator';
import { PublisherAccessService } from '@berth/accounts';
import { CheckoutService } from '@berth/commerce';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { CatalogPages, PAGE_ASSETS, pageHtml, PageContext, RenderedPages } from '@berth/storefront';
import type { Request, Response } from 'express';
import { ClientLimits } from './client-limits';
import { pageContext, sendPage } from './page-response';

/** One value of a query parameter: the first when repeated, nothing when it is not a string. */
const one = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
/** Search words beyond this are dropped, not refused: a page answers whatever was typed. */
const MAX_QUERY_CHARS = 200;

/** The storefront: what a visitor opens in a browser. Every page is public; buying goes through checkout. */
@ApiExcludeController()
@Controller()
export class PagesController {
  private readonly ctx: PageContext;

  constructor(
    private readonly pages: CatalogPages,
    private readonly rendered: RenderedPages,
    private readonly publishers: PublisherAccessService,
    private readonly checkout: CheckoutService,
    private readonly limits: ClientLimits,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ctx = pageContext(config);
  }

  @Get()
  async home(@Req() req: Request, @Res() res: Response): Promise<void> {
    const page = await this.rendered.get('home', async () =>
      pageHtml.home(this.ctx, await this.pages.home()),
    );
    sendPage(req, res, 200, page!);
  }

  @Get('charts')
  async search(@Req() req: Request, @Res() res: Response): Promise<void> {
    const price = one(req.query.price);
    const page = Number(one(req.query.page) ?? '1');
    const input = {
      q: one(req.query.q)?.slice(0, MAX_QUERY_CHARS),
      publisher: one(req.query.publisher)?.slice(0, 40) || undefined,
      price: price === 'free' || price === 'paid' ? price : undefined,
      page: Number.isSafeInteger(page) && page > 0 ? page : 1,
    } as const;
    // Keyed by what the page is made from, so spellings of one query share an entry.
    const key = `search ${JSON.stringify([input.q ?? '', input.publisher ?? '', input.price ?? '', input.page])}`;
    const html = await this.rendered.get(key, async () =>
      pageHtml.search(this.ctx, await this.pages.search(input)),
    );
    sendPage(req, res, 200, html!);
  }

  @Get('charts/:publisher/:chart')
  async chart(
    @Param('publisher') publisher: string,
    @Param('chart') chart: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.chartPage(req, res, publisher, chart, undefined);
  }

  @Get('charts/:publisher/:chart/:version')
  async chartVersion(
    @Param('publisher') publisher: string,
    @Param('chart') chart: string,
    @Param('version') version: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.chartPage(req, res, publisher, chart, version);
  }

  /**
   * The chart page's Buy form: starts the same checkout as `POST /v1/checkout` and sends the browser to
   * the payment page (Stripe Checkout or the local pay page). A bad address shows the page again with
   * the message.
   */
  @Post('charts/:publisher/:chart/buy')
  @HttpCode(303)
  async buy(
    @Param('publisher') slug: string,
    @Param('chart') chart: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const email = String((req.body as { email?: unknown } | undefined)?.email ?? '').trim();
    if (!isEmail(email) || email.length > 320) {
      const m = await this.pages.chart(slug, chart, { now: new Date() });
      if (!m) return this.notFound(req, res);
      const buy = { email: email.slice(0, 320), error: 'Enter an e-mail address, like name@example.com.' };
      return sendPage(req, res, 400, pageHtml.chart(this.ctx, m, buy), 'no-store');
    }
    await this.limits.consume('checkout', req);
    const publisher = await this.publishers.findBySlug(slug);
    if (!publisher) return this.notFound(req, res);
    const started = await this.checkout.start(publisher, chart, email);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, started.checkoutUrl);
  }

  @Get('publishers/:slug')
  async publisher(@Param('slug') slug: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const page = await this.rendered.get(`publisher ${JSON.stringify(slug)}`, async () => {
      const model = await this.pages.publisher(slug);
      return model ? pageHtml.publisher(this.ctx, model) : null;
    });
    if (!page) return this.notFound(req, res);
    sendPage(req, res, 200, page);
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const asset = PAGE_ASSETS.find((a) => a.path === `/assets/${file}`);
    if (!asset) {
      res.status(404).setHeader('Cache-Control', 'no-store').type('text/plain').send('Not found');
      return;
    }
    // The name carries the content's hash: a new build is a new name, so this one never changes.
    res.setHeader('Content-Type', asset.contentType);
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('ETag', asset.etag);
    res.send(asset.body);
  }

  private async chartPage(
    req: Request,
    res: Response,
    publisher: string,
    chart: string,
    version: string | undefined,
  ): Promise<void> {
    const compareWith = one(req.query.compare)?.slice(0, 255);
    const key = `chart ${JSON.stringify([publisher, chart, version ?? '', compareWith ?? ''])}`;
    const page = await this.rendered.get(key, async () => {
      const m = await this.pages.chart(publisher, chart, { version, compareWith, now: new Date() });
      return m ? pageHtml.chart(this.ctx, m) : null;
    });
    if (!page) return this.notFound(req, res);
    sendPage(req, res, 200, page);
  }

  private notFound(req: Request, res: Response): void {
    sendPage(req, res, 404, pageHtml.message(this.ctx, 'Not found', 'There is no such page in this store.'));
  }
}
