import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import express, { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { Metrics } from '../ops/metrics';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { sendError, toErrorBody } from './error.filter';

/**
 * Headers for every response. The only HTML is the checkout pages (inline CSS, a same-origin form);
 * everything else is JSON, YAML or archives that must never be sniffed into something executable.
 */
function securityHeaders(httpsOnly: boolean) {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    if (httpsOnly) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    next();
  };
}

/** Everything about HTTP that is not a route: parsers, validation, errors, metrics. Shared by main and tests. */
export function configureHttp(app: INestApplication): void {
  const expressApp = app as NestExpressApplication;
  const config = app.get<AppConfig>(APP_CONFIG);
  expressApp.useLogger(app.get(Logger));
  expressApp.disable('x-powered-by');
  expressApp.set('etag', false);
  // Names the client for rate limits only: every URL the store writes comes from PUBLIC_URL.
  expressApp.set('trust proxy', config.http.trustProxy);
  expressApp.use(app.get(Metrics).middleware());
  expressApp.use(securityHeaders(config.publicUrl.startsWith('https://')));
  // Off unless configured: the API is for CLIs and servers; a browser front end must be named.
  if (config.http.corsOrigins.length) {
    app.enableCors({
      origin: config.http.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['Retry-After', 'X-Request-Id', 'ETag'],
      maxAge: 600,
    });
  }
  expressApp.use(app.get(AuthFailureLimiter).middleware());
  // JSON whatever the Content-Type says (so `curl -d '{...}'` works), small, and only on /v1. Webhooks
  // are left raw: their signature covers the exact bytes.
  expressApp.use('/v1', express.json({ limit: '64kb', type: (req) => !(req.url ?? '').startsWith('/webhooks/'), strict: true }));
  // The local pay page's form posts urlencoded (empty) bodies.
  expressApp.use('/checkout', express.urlencoded({ extended: false, limit: '1kb' }));
  // Body-parser failures happen before Nest's filters see the request; answer them in the same shape.
  expressApp.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    const id = String((req as { id?: unknown }).id ?? '');
    sendError(req, res, toErrorBody(err, id), id);
  });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
    }),
  );
}
