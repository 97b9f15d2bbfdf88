import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { DomainError, ErrorKind } from '@berth/common';
import { isConnectionError } from '@berth/database';
import type { Request, Response } from 'express';
import { consoleHtml, PAGE_CSP, pageHtml, PageContext, StorefrontErrorCode } from '@berth/storefront';
import type { CountRejection } from './auth-failure-limiter';
import { HelmRepoErrorCode } from '@berth/helm-repo';
import { ociErrorCode } from '@berth/registry';
import { HttpErrorCode, HttpErrors, HttpStatusErrorCode } from './http-errors';
import { isLogin } from './login-route';

const STATUS: Record<ErrorKind, number> = {
  [ErrorKind.Invalid]: 400,
  [ErrorKind.Unauthenticated]: 401,
  [ErrorKind.Forbidden]: 403,
  [ErrorKind.NotFound]: 404,
  [ErrorKind.Conflict]: 409,
  [ErrorKind.TooLarge]: 413,
  [ErrorKind.RateLimited]: 429,
  [ErrorKind.Timeout]: 408,
  [ErrorKind.Unavailable]: 503,
  [ErrorKind.Unsupported]: 415,
  [ErrorKind.RangeNotSatisfiable]: 416,
};

const CODE_BY_STATUS: Record<number, string> = {
  400: HttpErrorCode.BadRequest,
  401: HttpStatusErrorCode.Unauthenticated,
  403: HttpStatusErrorCode.Forbidden,
  404: HttpErrorCode.RouteNotFound,
  405: HttpStatusErrorCode.MethodNotAllowed,
  409: HttpStatusErrorCode.Conflict,
  413: HttpErrorCode.PayloadTooLarge,
  415: HttpStatusErrorCode.UnsupportedMediaType,
  429: HttpStatusErrorCode.RateLimited,
};

const NOT_A_GUESS = new Set<string>([HelmRepoErrorCode.LicenseRequired, HelmRepoErrorCode.LicenseInactive]);

export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

/** A `DomainError`'s status (by its kind), code, message and `Retry-After`. */
export function domainErrorBody(e: DomainError): ErrorBody {
  return {
    status: STATUS[e.kind],
    code: e.code,
    message: e.message,
    retryAfterSeconds: e.details.retryAfterSeconds,
  };
}

/** Maps anything thrown to a status, a stable code and a safe sentence; unknown errors become a bare 500. */
export function toErrorBody(exception: unknown, requestId: string, logger?: Logger): ErrorBody {
  if (exception instanceof DomainError) return domainErrorBody(exception);
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse() as { message?: string | string[] } | string;
    const raw = typeof response === 'string' ? response : response.message;
    // ValidationPipe: a list of field problems; they name fields, never echo values.
    if (status === 400 && Array.isArray(raw)) {
      return domainErrorBody(HttpErrors.ValidationFailed(raw));
    }
    return {
      status,
      code: CODE_BY_STATUS[status] ?? HttpStatusErrorCode.HttpError,
      message: typeof raw === 'string' ? raw : exception.message,
    };
  }
  const bodyParserType = (exception as { type?: string })?.type;
  if (bodyParserType === 'entity.too.large') return domainErrorBody(HttpErrors.PayloadTooLarge());
  if (bodyParserType === 'entity.parse.failed') return domainErrorBody(HttpErrors.InvalidJson());
  if (bodyParserType) return domainErrorBody(HttpErrors.BadRequest());
  if (isConnectionError(exception)) {
    logger?.error({ msg: 'dependency unavailable', requestId, err: (exception as Error).message });
    return domainErrorBody(HttpErrors.ServiceUnavailable());
  }
  logger?.error({
    msg: 'unhandled error',
    requestId,
    err:
      exception instanceof Error
        ? { name: exception.name, message: exception.message, stack: exception.stack }
        : String(exception),
  });
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    code: HttpStatusErrorCode.InternalError,
    message: `Internal error (request ${requestId}).`,
  };
}

/** Writes an error in the shape its API family expects: /api is ChartMuseum's, the rest Berth's. */
export function sendError(req: Request, res: Response, e: ErrorBody, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A credential that was presented and refused (not a valid key that merely does not cover a version,
  // nor a revoked one shown again): the AuthFailureLimiter counts these, before the answer goes out, so
  // the next guess already meets the count.
  if (e.status === 401 && (req.headers.authorization || isLogin(req)) && !NOT_A_GUESS.has(e.code)) {
    res.locals.credentialRejected = true;
    const count = res.locals.countRejection as CountRejection | undefined;
    if (count) {
      res.locals.countRejection = undefined;
      const write = () => writeError(req, res, e, requestId);
      void count().then(write, write);
      return;
    }
  }
  writeError(req, res, e, requestId);
}

function writeError(req: Request, res: Response, e: ErrorBody, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e.retryAfterSeconds) res.setHeader('Retry-After', String(e.retryAfterSeconds));
  if (REGISTRY_PATH.test(req.path)) {
    writeRegistryError(req, res, e, requestId);
    return;
  }
  if (e.status === 401) {
    // Helm and ChartMuseum clients speak Basic (a token or license key as the password); /v1 is Bearer.
    res.setHeader(
      'WWW-Authenticate',
      /^\/(helm|api)\//i.test(req.path) ? 'Basic realm="Berth", charset="UTF-8"' : 'Bearer realm="Berth"',
    );
  }
  res.setHeader('X-Request-Id', requestId);
  res.setHeader('Cache-Control', 'no-store');
  const page = errorPageContext(req);
  if (page) {
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('Referrer-Policy', 'same-origin');
    res.status(e.status).type('html');
    if (req.method === 'HEAD') res.end();
    // A person who needs a buyer session is shown how to get one.
    else if (e.code === StorefrontErrorCode.BuyerSessionRequired) res.send(pageHtml.signIn(page));
    else if (e.code === HttpErrorCode.ConsoleSessionRequired) res.send(consoleHtml.signIn(page));
    else res.send(pageHtml.message(page, ERROR_TITLES[e.status] ?? 'Something went wrong', e.message));
    return;
  }
  // Routing ignores case, so the choice of shape must too.
  const chartMuseum = /^\/api\//i.test(req.path) || /^\/helm\/[^/]+\/api\//i.test(req.path);
  const body = chartMuseum
    ? { error: e.message, code: e.code }
    : { error: { code: e.code, message: e.message } };
  if (req.method === 'HEAD') {
    res.status(e.status).end();
    return;
  }
  res.status(e.status).json(body);
}

/** The OCI distribution API: its own error document, and Basic as the only challenge. */
const REGISTRY_PATH = /^\/v2(\/|$)/i;

function writeRegistryError(req: Request, res: Response, e: ErrorBody, requestId: string): void {
  if (e.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="berth"');
  res.setHeader('X-Request-Id', requestId);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  if (req.method === 'HEAD') {
    res.status(e.status).end();
    return;
  }
  res.status(e.status).json({
    errors: [{ code: ociErrorCode(e.code, e.status), message: e.message, detail: { code: e.code } }],
  });
}

const ERROR_TITLES: Record<number, string> = {
  400: 'That did not work',
  403: 'Not allowed here',
  404: 'Not found',
  405: 'Not allowed',
  409: 'That did not work',
  410: 'Gone',
  413: 'Too large',
  429: 'Too many requests',
  503: 'Unavailable for a moment',
};

/** Under these prefixes every answer is for a program, whatever it accepts. */
const API_PATHS = /^\/(v1|v2|api|helm|metrics|healthz|readyz|livez)(\/|$)/i;

/**
 * The storefront's context when this error goes to a person (a browser asking for HTML, outside the API
 * paths): they get a page in the store's look instead of JSON.
 */
function errorPageContext(req: Request): PageContext | undefined {
  if (API_PATHS.test(req.path) || !/\btext\/html\b/.test(req.headers.accept ?? '')) return undefined;
  return req.app.get(PAGE_CONTEXT) as PageContext | undefined;
}

/** The Express setting that holds the pages' context (see configureHttp). */
export const PAGE_CONTEXT = 'berth page context';

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const requestId = String((req as { id?: unknown }).id ?? '');
    sendError(req, res, toErrorBody(exception, requestId, this.logger), requestId);
  }
}
