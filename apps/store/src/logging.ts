import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import { stdSerializers } from 'pino';

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

export function loggerParams(level: string): Params {
  return {
    pinoHttp: {
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
    },
  };
}
