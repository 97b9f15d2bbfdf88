import { CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  API_TOKEN_PREFIX,
  AccountsErrors,
  ApiTokenScope,
  credentialFromAuthorization,
  Operators,
  PublisherAccessService,
  PublisherPrincipal,
  SessionService,
} from '@berth/accounts';
import type { Request } from 'express';
import { HttpErrors } from './http-errors';

const SCOPE = 'berth:publisher-scope';
const ACCOUNT = 'berth:account-route';
type Requirement = ApiTokenScope | 'owner';

/**
 * Marks a route under `:slug` as the publisher's: its owner's access token, or one of its API tokens
 * with `scope` (`'owner'`: access token only). Checked by a guard, so before any body is parsed or
 * validated: an anonymous request gets 401, never a validation error that reveals the route's shape.
 */
export const PublisherRoute = (scope: Requirement) => SetMetadata(SCOPE, scope);

/**
 * Marks a route about the caller's own account (password, sessions, closing it): a live access token of
 * the account (its session epoch checked), never an API token. Checked by the same guard, before the body.
 */
export const AccountRoute = () => SetMetadata(ACCOUNT, true);

const OPERATOR = 'berth:operator-route';

/**
 * Marks a route of the store's operator (`/v1/operator/…`): a live access token (never an API token) of
 * an account OPERATOR_EMAILS names; any other account is 403 `operator_required`.
 */
export const OperatorRoute = () => SetMetadata(OPERATOR, true);

/** The account id the guard authenticated for an AccountRoute. */
export const CurrentAccount = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string =>
    ctx.switchToHttp().getRequest<{ accountId: string }>().accountId,
);

/** The principal the guard authenticated for this request. */
export const Principal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): PublisherPrincipal =>
    ctx.switchToHttp().getRequest<{ principal: PublisherPrincipal }>().principal,
);

@Injectable()
export class PublisherAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly access: PublisherAccessService,
    private readonly sessions: SessionService,
    private readonly operators: Operators,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const operator = this.reflector.get<boolean | undefined>(OPERATOR, ctx.getHandler());
    if (operator || this.reflector.get<boolean | undefined>(ACCOUNT, ctx.getHandler())) {
      const req = ctx.switchToHttp().getRequest<Request & { accountId?: string }>();
      const credential = credentialFromAuthorization(req.headers.authorization);
      if (!credential) throw AccountsErrors.AuthRequired();
      if (credential.startsWith(API_TOKEN_PREFIX)) throw HttpErrors.OwnerRequired();
      req.accountId = await this.sessions.authenticate(credential);
      if (operator && !(await this.operators.isOperator(req.accountId))) throw HttpErrors.OperatorRequired();
      return true;
    }
    const requirement = this.reflector.get<Requirement | undefined>(SCOPE, ctx.getHandler());
    if (!requirement) return true;
    const req = ctx.switchToHttp().getRequest<Request & { principal?: PublisherPrincipal }>();
    const principal = await this.access.authorize(
      req.headers.authorization,
      String(req.params.slug ?? ''),
      requirement === 'owner' ? 'charts:write' : requirement,
    );
    if (requirement === 'owner' && principal.kind !== 'owner') throw HttpErrors.OwnerRequired();
    req.principal = principal;
    return true;
  }
}
