import {
  CallHandler,
  ExecutionContext,
  Injectable,
  Logger,
  NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { PublisherPrincipal } from '@berth/accounts';
import { AuditAction, AuditLog } from '@berth/audit';
import type { Request, Response } from 'express';
import { concatMap, Observable } from 'rxjs';

const AUDITED = 'berth:audited';

interface AuditSpec {
  action: AuditAction;
  /** What it was done to, from the request; a handler that learns it while working calls auditSubject. */
  subject?: (req: Request) => string;
}

type AuditedRequest = Request & { principal?: PublisherPrincipal; accountId?: string; auditSubject?: string };

/** The route's successful requests go to the publisher's audit log (AuditInterceptor writes them). */
export const Audited = (action: AuditAction, subject?: (req: Request) => string) =>
  SetMetadata(AUDITED, { action, subject } satisfies AuditSpec);

/** For a handler that learns what it acted on while it works: an upload's chart and version, a new id. */
export function auditSubject(req: Request, subject: string): void {
  (req as AuditedRequest).auditSubject = subject;
}

/** Route parameters as an audit subject: `name`, or `name@version`. */
export const param =
  (...names: string[]) =>
  (req: Request): string =>
    names.map((n) => String(req.params[n] ?? '')).join('@');

/**
 * Writes an audit event after each successful request of an `@Audited` route: who (the publisher's
 * owner or one of its API tokens, from the principal the guard or the handler authenticated, or the
 * account an account route names), what, to what, from which address and client. Refused and failed
 * requests are not actions and are not written. The event is written before the answer goes out; if
 * writing it fails, the action (already done) still answers and the failure is logged.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditLog,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<AuditSpec | undefined>(AUDITED, ctx.getHandler());
    if (!spec) return next.handle();
    const http = ctx.switchToHttp();
    const req = http.getRequest<AuditedRequest>();
    const res = http.getResponse<Response>();
    return next.handle().pipe(
      concatMap(async (body: unknown) => {
        if (res.statusCode < 400) await this.write(spec, req);
        return body;
      }),
    );
  }

  private async write(spec: AuditSpec, req: AuditedRequest): Promise<void> {
    const p = req.principal;
    const actor = p
      ? p.kind === 'owner'
        ? ({ kind: 'owner', accountId: p.accountId } as const)
        : ({ kind: 'api_token', tokenId: p.tokenId } as const)
      : req.accountId
        ? ({ kind: 'owner', accountId: req.accountId } as const)
        : null;
    if (!actor) return;
    try {
      await this.audit.record({
        action: spec.action,
        subject: req.auditSubject ?? spec.subject?.(req) ?? '',
        publisherId: p?.publisher.id ?? null,
        actor,
        clientAddress: req.ip ?? req.socket.remoteAddress,
        userAgent: req.headers['user-agent'],
      });
    } catch (e) {
      this.logger.error({ msg: 'audit event not written', action: spec.action, err: e });
    }
  }
}

/** A handler that authenticates inline (the ChartMuseum API reads its body itself) names its principal. */
export function rememberPrincipal(req: Request, principal: PublisherPrincipal): void {
  (req as AuditedRequest).principal = principal;
}

/** An account route (or the login) names the account it acted for. */
export function rememberAccount(req: Request, accountId: string): void {
  (req as AuditedRequest).accountId = accountId;
}
