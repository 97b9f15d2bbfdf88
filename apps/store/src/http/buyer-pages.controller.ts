import { Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { isEmail } from 'class-validator';
import { DomainError } from '@berth/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { LicenseService } from '@berth/licensing';
import {
  BuyerSignInService,
  KeyShown,
  myLicenseRow,
  pageHtml,
  PageContext,
  StorefrontErrorCode,
} from '@berth/storefront';
import type { Request, Response } from 'express';
import {
  assertSameOrigin,
  BUYER_COOKIE,
  BuyerRoute,
  clearBuyerCookie,
  cookieValue,
  CurrentBuyer,
  setBuyerCookie,
} from './buyer-session';
import { ClientLimits } from './client-limits';
import { formField } from './form-field';
import { pageContext, sendPage } from './page-response';

/**
 * "My licenses" in the browser: ask for a link, open it, see and rotate keys. Every page here is the
 * buyer's alone (`private, no-store`); each action is also a /v1/buyer endpoint (BuyerController).
 */
@ApiExcludeController()
@Controller('my')
export class BuyerPagesController {
  private readonly ctx: PageContext;

  constructor(
    private readonly signIn: BuyerSignInService,
    private readonly licenses: LicenseService,
    private readonly limits: ClientLimits,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.ctx = pageContext(config);
  }

  @Get('licenses')
  @BuyerRoute()
  async list(@CurrentBuyer() email: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.render(req, res, email);
  }

  @Post('licenses/:id/key')
  @HttpCode(200)
  @BuyerRoute()
  async showKey(
    @CurrentBuyer() email: string,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    assertSameOrigin(req, this.config);
    const { key } = await this.licenses.currentKeyForBuyer(email, id);
    await this.render(req, res, email, { licenseId: id, key, rotated: false });
  }

  @Post('licenses/:id/rotate')
  @HttpCode(200)
  @BuyerRoute()
  async rotate(
    @CurrentBuyer() email: string,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    assertSameOrigin(req, this.config);
    const { key } = await this.licenses.rotateKey(email, id);
    await this.render(req, res, email, { licenseId: id, key, rotated: true });
  }

  /** Without a token: the form that asks for a link. With one: a button that uses it (see ConfirmSignInPage). */
  @Get('sign-in')
  signInPage(@Req() req: Request, @Res() res: Response): void {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (token === undefined) return sendPage(req, res, 200, pageHtml.signIn(this.ctx), 'no-store');
    if (!this.signIn.isWellFormedLink(token)) return this.linkRefused(req, res);
    sendPage(req, res, 200, pageHtml.confirmSignIn(this.ctx, token), 'no-store');
  }

  @Post('sign-in/link')
  @HttpCode(200)
  async requestLink(@Req() req: Request, @Res() res: Response): Promise<void> {
    const email = formField(req, 'email');
    if (!isEmail(email) || email.length > 320) {
      const html = pageHtml.signIn(this.ctx, {
        email: email.slice(0, 320),
        error: 'Enter an e-mail address, like name@example.com.',
      });
      return sendPage(req, res, 400, html, 'no-store');
    }
    await this.limits.consumeMailedLink('loginLink', req, email);
    await this.signIn.requestLink(email);
    sendPage(req, res, 200, pageHtml.linkSent(this.ctx), 'no-store');
  }

  @Post('sign-in')
  @HttpCode(303)
  async open(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertSameOrigin(req, this.config);
    try {
      const session = await this.signIn.consumeLink(formField(req, 'token'));
      setBuyerCookie(res, this.config, session);
    } catch (e) {
      if (e instanceof DomainError && e.code === StorefrontErrorCode.LoginLinkInvalid)
        return this.linkRefused(req, res);
      throw e;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, `${this.ctx.basePath}/my/licenses`);
  }

  @Post('sign-out')
  @HttpCode(303)
  async signOut(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertSameOrigin(req, this.config);
    await this.signIn.signOut(cookieValue(req, BUYER_COOKIE));
    clearBuyerCookie(res, this.config);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, `${this.ctx.basePath}/`);
  }

  private async render(req: Request, res: Response, email: string, shown?: KeyShown): Promise<void> {
    const licenses = (await this.licenses.listForBuyer(email)).map((l) =>
      myLicenseRow(l, this.config.publicUrl),
    );
    sendPage(req, res, 200, pageHtml.myLicenses(this.ctx, { email, licenses, shown }), 'no-store');
  }

  private linkRefused(req: Request, res: Response): void {
    const notice = 'This sign-in link has expired or was already used. Ask for a new one below.';
    sendPage(req, res, 400, pageHtml.signIn(this.ctx, { notice }), 'no-store');
  }
}
