import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { isEmail } from 'class-validator';
import { AccountMailService, AccountsErrorCode } from '@berth/accounts';
import { DomainError } from '@berth/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { pageHtml, PageContext } from '@berth/storefront';
import type { Request, Response } from 'express';
import { RESET_SENT_MESSAGE } from './account-links.controller';
import { assertSameOrigin } from './buyer-session';
import { ClientLimits } from './client-limits';
import { formField } from './form-field';
import { pageContext, sendPage } from './page-response';

const LINK_REFUSED = 'This link has expired or was already used. Ask for a new one below.';

/**
 * The pages the links in a publisher account's mail open: confirm the address, reset a forgotten
 * password. Each action is also a /v1/accounts endpoint (AccountLinksController).
 */
@ApiExcludeController()
@Controller('account')
export class AccountPagesController {
  private readonly ctx: PageContext;

  constructor(
    private readonly mail: AccountMailService,
    private readonly limits: ClientLimits,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.ctx = pageContext(config);
  }

  @Get('verify')
  verifyPage(@Req() req: Request, @Res() res: Response): void {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    if (!this.mail.isWellFormedLink(token)) return this.verifyRefused(req, res);
    sendPage(req, res, 200, pageHtml.confirmEmail(this.ctx, token), 'no-store');
  }

  @Post('verify')
  @HttpCode(200)
  async verify(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertSameOrigin(req, this.config);
    if (!(await this.refusedLink(() => this.mail.verifyEmail(formField(req, 'token'))))) {
      return this.verifyRefused(req, res);
    }
    const text = 'Your address is confirmed. You can sign in and publish charts now.';
    sendPage(req, res, 200, pageHtml.message(this.ctx, 'Address confirmed', text), 'no-store');
  }

  @Get('forgot')
  forgotPage(@Req() req: Request, @Res() res: Response): void {
    sendPage(req, res, 200, pageHtml.forgotPassword(this.ctx), 'no-store');
  }

  @Post('forgot')
  @HttpCode(200)
  async forgot(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertSameOrigin(req, this.config);
    const email = formField(req, 'email');
    if (!isEmail(email) || email.length > 320) {
      const error = 'Enter an e-mail address, like name@example.com.';
      return sendPage(
        req,
        res,
        400,
        pageHtml.forgotPassword(this.ctx, { email: email.slice(0, 320), error }),
        'no-store',
      );
    }
    await this.limits.consumeMailedLink('passwordReset', req, email);
    await this.mail.requestPasswordReset(email);
    sendPage(req, res, 200, pageHtml.message(this.ctx, 'Check your e-mail', RESET_SENT_MESSAGE), 'no-store');
  }

  @Get('reset')
  resetPage(@Req() req: Request, @Res() res: Response): void {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    if (!this.mail.isWellFormedLink(token)) return this.resetRefused(req, res);
    sendPage(req, res, 200, pageHtml.resetPassword(this.ctx, token), 'no-store');
  }

  @Post('reset')
  @HttpCode(200)
  async reset(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertSameOrigin(req, this.config);
    const token = formField(req, 'token');
    const password = formField(req, 'password', { trim: false });
    const again = formField(req, 'again', { trim: false });
    if (!this.mail.isWellFormedLink(token)) return this.resetRefused(req, res);
    const error =
      password.length < 10 || password.length > 256
        ? 'The password must be 10 to 256 characters long.'
        : password !== again
          ? 'The two passwords differ.'
          : undefined;
    if (error) return sendPage(req, res, 400, pageHtml.resetPassword(this.ctx, token, error), 'no-store');
    if (!(await this.refusedLink(() => this.mail.resetPassword(token, password)))) {
      return this.resetRefused(req, res);
    }
    const text =
      'Your password is changed, and every earlier session is signed out. Sign in with the new one.';
    sendPage(req, res, 200, pageHtml.message(this.ctx, 'Password changed', text), 'no-store');
  }

  /** Runs a link action; false when the link was refused (used, expired, forged), other errors thrown. */
  private async refusedLink(action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action();
      return true;
    } catch (e) {
      if (e instanceof DomainError && e.code === AccountsErrorCode.AccountLinkInvalid) return false;
      throw e;
    }
  }

  private verifyRefused(req: Request, res: Response): void {
    const text =
      'This confirmation link has expired or was already used. Sign in with your password to be sent a new one.';
    sendPage(req, res, 400, pageHtml.message(this.ctx, 'Link not valid', text), 'no-store');
  }

  private resetRefused(req: Request, res: Response): void {
    sendPage(req, res, 400, pageHtml.forgotPassword(this.ctx, { notice: LINK_REFUSED }), 'no-store');
  }
}
