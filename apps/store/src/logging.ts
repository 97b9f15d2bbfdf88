import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { stdSerializers } from 'pino';
import pretty from 'pino-pretty';

/**
 * Anything that may hold a secret, wherever it appears. Request bodies are never logged, and URLs are
 * logged without their query string (checkout session ids travel there).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["stripe-signature"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.key',
  '*.licenseKey',
  '*.secret',
  'password',
  'token',
  'accessToken',
];

/**
 * The query string goes (checkout session ids travel there), and so do path segments that are secrets:
 * a checkout session id reads the buyer's license key.
 */
export function redactPath(url: string): string {
  // Routing ignores case and repeated slashes, so the redaction must too.
  return url.split('?')[0].replace(/^(\/+v1\/+checkout|\/+checkout\/+local)\/+[^/]+/i, '$1/[redacted]');
}

/** `auto` is readable lines on a terminal and JSON when stdout is a pipe or a file (collectors, tests). */
export const wantsPrettyLogs = (format: 'auto' | 'json' | 'pretty'): boolean =>
  format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);

// The start line's and the request lines' fields, shown in their message instead of under it.
const PRETTY_HIDDEN = 'pid,hostname,context,req,res,responseTime,port,publicUrl,database,blobStore,limits';

/** One short line per entry for a person at a terminal: time, level, `[context] message` or the request. */
export function prettyLogStream() {
  return pretty({
    colorize: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: PRETTY_HIDDEN,
    singleLine: true,
    sync: true,
    messageFormat: (log: Record<string, unknown>, messageKey: string) => {
      const req = log.req as { method?: string; path?: string } | undefined;
      const res = log.res as { statusCode?: number } | undefined;
      if (req && res) return `${req.method} ${req.path} ${res.statusCode} ${String(log.responseTime)} ms`;
      const context = typeof log.context === 'string' ? `[${log.context}] ` : '';
      return `${context}${String(log[messageKey])}`;
    },
  });
}

// Nest's own start-up chatter (every module and route, one line each) is for debugging the wiring.
const FRAMEWORK_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** Nest's logger with the framework's start-up lines at debug: a start shows what the store says. */
export class StoreLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) this.inner.debug?.(message, ...rest);
    else this.inner.log(message, ...rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.inner.error(message, ...rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.inner.warn(message, ...rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.inner.debug?.(message, ...rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.inner.verbose?.(message, ...rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    (this.inner.fatal ?? this.inner.error).call(this.inner, message, ...rest);
  }
}

export function loggerParams(level: string, format: 'auto' | 'json' | 'pretty' = 'json'): Params {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    autoLogging: {
      ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics',
    },
    // Our serializers read the raw request and response: pino-http's wrappers would first copy every
    // header into an object on each request, for fields that are then dropped.
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage & { id?: unknown }) => ({
        id: req.id,
        method: req.method,
        path: redactPath(String(req.url)),
        userAgent: req.headers?.['user-agent'],
        remoteAddress: req.socket?.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: stdSerializers.err,
    },
  } satisfies Params['pinoHttp'];
  return { pinoHttp: wantsPrettyLogs(format) ? [options, prettyLogStream()] : options };
}
