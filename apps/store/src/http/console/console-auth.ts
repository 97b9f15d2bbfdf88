import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ConsoleSessions, OpenedConsoleSession, Operators, PublisherPrincipal } from '@berth/accounts';
import { APP_CONFIG, AppConfig } from '@berth/config';
import type { Request, Response } from 'express';
import { cookieValue } from '../buyer-session';
import { HttpErrors } from '../http-errors';

const CONSOLE = 'berth:console-route';
const CONSOLE_OPERATOR = 'berth:console-operator-route';
/** The console's session cookie: an opaque random token (its SHA-256 is the session's row). */
export const CONSOLE_COOKIE = 'berth_console';
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Marks a console route: a live console session cookie, and under `:slug` a publisher the account owns
 * (another's and an unknown one answer alike). Every other method must come from a page of the store
 * itself (`Origin`, and `Sec-Fetch-Site` when sent), checked by ConsoleGuard before the handler runs or
 * reads an upload (only a form's small urlencoded body is parsed earlier).
 */
export const ConsoleRoute = () => SetMetadata(CONSOLE, true);

/** A console route of the store's operators (OPERATOR_EMAILS); any other account is 403 `operator_required`. */
export const ConsoleOperatorRoute = () =>
  applyDecorators(SetMetadata(CONSOLE, true), SetMetadata(CONSOLE_OPERATOR, true));

/** The account a console route was authenticated for. */
export const ConsoleAccount = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string =>
    ctx.switchToHttp().getRequest<{ accountId: string }>().accountId,
);

/**
 * httpOnly, SameSite=Strict (no other site's page, link or form ever sends it: the console is never the
 * target of a mailed link), only under the console's path, Secure on https.
 */
function cookieAttributes(config: AppConfig, maxAgeSeconds: number): string {
  const url = new URL(config.publicUrl);
  const path = `${url.pathname.replace(/\/+$/, '')}/console`;
  return [
    `Path=${path}`,
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(url.protocol === 'https:' ? ['Secure'] : []),
  ].join('; ');
}

export function setConsoleCookie(res: Response, config: AppConfig, session: OpenedConsoleSession): void {
  const maxAge = Math.max(0, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000));
  res.setHeader('Set-Cookie', `${CONSOLE_COOKIE}=${session.token}; ${cookieAttributes(config, maxAge)}`);
}

export function clearConsoleCookie(res: Response, config: AppConfig): void {
  res.setHeader('Set-Cookie', `${CONSOLE_COOKIE}=; ${cookieAttributes(config, 0)}`);
}

/**
 * A change must come from the store's own page: browsers send `Origin` with every POST, so one that is
 * missing, `null` or another origin is refused, and so is a fetch the browser itself calls cross-site.
 */
export function assertConsoleOrigin(req: Request, config: AppConfig): void {
  if (SAFE_METHODS.has(req.method)) return;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw HttpErrors.CrossOriginRefused();
  if (req.headers.origin !== new URL(config.publicUrl).origin) throw HttpErrors.CrossOriginRefused();
}

@Injectable()
export class ConsoleGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: ConsoleSessions,
    private readonly operators: Operators,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (!this.reflector.get<boolean | undefined>(CONSOLE, ctx.getHandler())) return true;
    const req = ctx
      .switchToHttp()
      .getRequest<Request & { accountId?: string; principal?: PublisherPrincipal }>();
    assertConsoleOrigin(req, this.config);
    const accountId = await this.sessions.authenticate(cookieValue(req, CONSOLE_COOKIE));
    if (!accountId) throw HttpErrors.ConsoleSessionRequired();
    req.accountId = accountId;
    if (
      this.reflector.get<boolean | undefined>(CONSOLE_OPERATOR, ctx.getHandler()) &&
      !(await this.operators.isOperator(accountId))
    )
      throw HttpErrors.OperatorRequired();
    if (req.params.slug !== undefined) {
      const publisher = await this.sessions.ownedPublisher(accountId, String(req.params.slug));
      req.principal = { kind: 'owner', accountId, publisher };
    }
    return true;
  }
}
