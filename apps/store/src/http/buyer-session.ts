import { CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '@berth/config';
import { BuyerSignInService, OpenedBuyerSession, StorefrontErrors } from '@berth/storefront';
import type { Request, Response } from 'express';
import { HttpErrors } from './http-errors';

const BUYER = 'berth:buyer-route';
/** The buyer's session cookie: an opaque random token (its SHA-256 is the session's row). */
export const BUYER_COOKIE = 'berth_buyer';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Marks a route as the signed-in buyer's ("My licenses" and its `/v1` twins): a live buyer session cookie,
 * checked by BuyerSessionGuard before the handler. Without one: 401 `buyer_session_required` (a browser
 * gets the sign-in page).
 */
export const BuyerRoute = () => SetMetadata(BUYER, true);

/** The e-mail address of the buyer the guard signed in for this request. */
export const CurrentBuyer = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string =>
    ctx.switchToHttp().getRequest<{ buyerEmail: string }>().buyerEmail,
);

/** One cookie's value from the Cookie header (the store sets no other cookie that needs a parser). */
export function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** httpOnly, SameSite=Lax (a link from the mail arrives as a top-level navigation), Secure on https. */
function cookieAttributes(config: AppConfig, maxAgeSeconds: number): string {
  const url = new URL(config.publicUrl);
  const path = url.pathname.replace(/\/+$/, '') || '/';
  return [
    `Path=${path}`,
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(url.protocol === 'https:' ? ['Secure'] : []),
  ].join('; ');
}

export function setBuyerCookie(res: Response, config: AppConfig, session: OpenedBuyerSession): void {
  const maxAge = Math.max(0, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000));
  res.setHeader('Set-Cookie', `${BUYER_COOKIE}=${session.token}; ${cookieAttributes(config, maxAge)}`);
}

export function clearBuyerCookie(res: Response, config: AppConfig): void {
  res.setHeader('Set-Cookie', `${BUYER_COOKIE}=; ${cookieAttributes(config, 0)}`);
}

/**
 * Refuses a state-changing request whose Origin is another site's. The cookie is SameSite=Lax, so a
 * cross-site form post carries no session anyway; this also covers same-site pages of other origins.
 */
export function assertSameOrigin(req: Request, config: AppConfig): void {
  if (SAFE_METHODS.has(req.method)) return;
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (origin !== new URL(config.publicUrl).origin) throw HttpErrors.CrossOriginRefused();
}

@Injectable()
export class BuyerSessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly signIn: BuyerSignInService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (!this.reflector.get<boolean | undefined>(BUYER, ctx.getHandler())) return true;
    const req = ctx.switchToHttp().getRequest<Request & { buyerEmail?: string }>();
    const email = await this.signIn.authenticate(cookieValue(req, BUYER_COOKIE));
    if (!email) throw StorefrontErrors.BuyerSessionRequired();
    req.buyerEmail = email;
    return true;
  }
}
