import { CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiTokenScope, PublisherAccessService, PublisherPrincipal } from '@berth/accounts';
import type { Request } from 'express';
import { HttpErrors } from './http-errors';

const SCOPE = 'berth:publisher-scope';
type Requirement = ApiTokenScope | 'owner';

/**
 * Marks a route under `:slug` as the publisher's: its owner's access token, or one of its API tokens
 * with `scope` (`'owner'`: access token only). Checked by a guard, so before any body is parsed or
 * validated: an anonymous request gets 401, never a validation error that reveals the route's shape.
 */
export const PublisherRoute = (scope: Requirement) => SetMetadata(SCOPE, scope);

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
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const requirement = this.reflector.get<Requirement | undefined>(SCOPE, ctx.getHandler());
    if (!requirement) return true;
    const req = ctx.switchToHttp().getRequest<Request & { principal?: PublisherPrincipal }>();
    const principal = await this.access.authorize(
      req.headers.authorization,
      String(req.params.slug ?? ''),
      requirement === 'owner' ? 'charts:write' : requirement,
    );
    if (requirement === 'owner' && principal.kind !== 'owner') {
      throw HttpErrors.OwnerRequired();
    }
    req.principal = principal;
    return true;
  }
}
