import { CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { parseRepositoryName, RegistryAccess, RegistryCaller } from '@berth/registry';
import type { Request, Response } from 'express';

const ACTION = 'berth:registry-action';

/**
 * What a /v2 route does, declared on each: `ping` (the version check), `pull` (what the caller may see
 * is decided object by object), `push` (the publisher's own token with charts:write, checked here before
 * any body is read).
 */
export type RegistryAction = 'ping' | 'pull' | 'push';
export const RegistryRoute = (action: RegistryAction) => SetMetadata(ACTION, action);

/** The caller RegistryGuard resolved. */
export const Caller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): RegistryCaller =>
    ctx.switchToHttp().getRequest<{ registryCaller: RegistryCaller }>().registryCaller,
);

/** The repository name of a `*name` route, joined again (Express hands the segments over as a list). */
export const RepositoryName = createParamDecorator((_: unknown, ctx: ExecutionContext): string =>
  repositoryParam(ctx.switchToHttp().getRequest<Request>().params.name),
);

/** The repository name of a `*name` route (Express hands the segments over as a list). */
export const repositoryParam = (value: string | string[]) => (Array.isArray(value) ? value.join('/') : value);

@Injectable()
export class RegistryGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly access: RegistryAccess,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const action = this.reflector.get<RegistryAction | undefined>(ACTION, ctx.getHandler());
    if (!action) return true;
    const req = ctx.switchToHttp().getRequest<Request & { registryCaller?: RegistryCaller }>();
    ctx.switchToHttp().getResponse<Response>().setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const caller = await this.access.caller(req.headers.authorization);
    if (action === 'push') {
      this.access.assertPush(caller, parseRepositoryName(repositoryParam(req.params.name)));
    }
    req.registryCaller = caller;
    return true;
  }
}
