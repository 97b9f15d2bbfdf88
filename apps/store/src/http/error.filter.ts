import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { DomainError, ErrorKind } from '@berth/common';
import { isConnectionError } from '@berth/database';
import type { Request, Response } from 'express';
import { HttpErrorCode } from './http-error-codes';
import { isLogin } from './login-route';

const STATUS: Record<ErrorKind, number> = {
  [ErrorKind.Invalid]: 400,
  [ErrorKind.Unauthenticated]: 401,
  [ErrorKind.Forbidden]: 403,
  [ErrorKind.NotFound]: 404,
  [ErrorKind.Conflict]: 409,
  [ErrorKind.TooLarge]: 413,
  [ErrorKind.RateLimited]: 429,
  [ErrorKind.Unavailable]: 503,
};

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: HttpErrorCode.RouteNotFound,
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

const NOT_A_GUESS = new Set(['license_required', 'license_inactive']);

export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

/** Maps anything thrown to a status, a stable code and a safe sentence; unknown errors become a bare 500. */
export function toErrorBody(exception: unknown, requestId: string, logger?: Logger): ErrorBody {
  if (exception instanceof DomainError) {
    return {
      status: STATUS[exception.kind],
      code: exception.code,
      message: exception.message,
      retryAfterSeconds: exception.details.retryAfterSeconds,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse() as { message?: string | string[] } | string;
    const raw = typeof response === 'string' ? response : response.message;
    // ValidationPipe: a list of field problems; they name fields, never echo values.
    if (status === 400 && Array.isArray(raw)) {
      return { status, code: 'validation_failed', message: raw.join('; ') };
    }
    return {
      status,
      code: CODE_BY_STATUS[status] ?? 'http_error',
      message: typeof raw === 'string' ? raw : exception.message,
    };
  }
  const bodyParserType = (exception as { type?: string })?.type;
  if (bodyParserType === 'entity.too.large')
    return { status: 413, code: 'payload_too_large', message: 'The request body is too large.' };
  if (bodyParserType === 'entity.parse.failed')
    return { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON.' };
  if (bodyParserType)
    return { status: 400, code: 'bad_request', message: 'The request body could not be read.' };
  if (isConnectionError(exception)) {
    logger?.error({ msg: 'dependency unavailable', requestId, err: (exception as Error).message });
    return {
      status: 503,
      code: 'service_unavailable',
      message: 'The service is temporarily unavailable; retry shortly.',
      retryAfterSeconds: 5,
    };
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
    code: 'internal_error',
    message: `Internal error (request ${requestId}).`,
  };
}

/** Writes an error in the shape its API family expects: /api is ChartMuseum's, the rest Berth's. */
export function sendError(req: Request, res: Response, e: ErrorBody, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e.retryAfterSeconds) res.setHeader('Retry-After', String(e.retryAfterSeconds));
  // A credential that was presented and refused (not a valid key that merely does not cover a version,
  // nor a revoked one shown again): the AuthFailureLimiter counts these.
  if (e.status === 401 && (req.headers.authorization || isLogin(req)) && !NOT_A_GUESS.has(e.code))
    res.locals.credentialRejected = true;
  if (e.status === 401) {
    // Helm and ChartMuseum clients speak Basic (a token or license key as the password); /v1 is Bearer.
    res.setHeader(
      'WWW-Authenticate',
      /^\/(helm|api)\//i.test(req.path) ? 'Basic realm="Berth", charset="UTF-8"' : 'Bearer realm="Berth"',
    );
  }
  res.setHeader('X-Request-Id', requestId);
  res.setHeader('Cache-Control', 'no-store');
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
