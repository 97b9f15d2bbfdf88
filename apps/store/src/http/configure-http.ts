import type { RequestListener, Server } from 'node:http';
import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import express, { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { Metrics } from '../ops/metrics';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { HelmPullLane } from './helm-pull-lane';
import { setSecurityHeaders } from './security-headers';
import { PAGE_CONTEXT, sendError, toErrorBody } from './error.filter';
import { pageContext } from './page-response';
import { v1JsonParser } from './body-parsing';
import { forwardedHeaderWarning } from './forwarded-headers';
import { StoreLogger } from '../logging';

/** Everything about HTTP that is not a route: parsers, validation, errors, metrics. Shared by main and tests. */
export function configureHttp(app: INestApplication): void {
  const expressApp = app as NestExpressApplication;
  const config = app.get<AppConfig>(APP_CONFIG);
  expressApp.useLogger(new StoreLogger(app.get(Logger)));
  expressApp.disable('x-powered-by');
  expressApp.set('etag', false);
  expressApp.set(PAGE_CONTEXT, pageContext(config));
  // Names the client for rate limits only: every URL the store writes comes from PUBLIC_URL.
  expressApp.set('trust proxy', config.http.trustProxy);
  expressApp.use(forwardedHeaderWarning(config));
  expressApp.use(app.get(Metrics).middleware());
  const httpsOnly = config.publicUrl.startsWith('https://');
  expressApp.use(
    (_req: Request, res: Response, next: NextFunction) => (setSecurityHeaders(res, httpsOnly), next()),
  );
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
  // JSON on /v1, depth-capped; webhooks are left raw: their signature covers the exact bytes.
  expressApp.use('/v1', v1JsonParser());
  // The local pay page's form posts urlencoded (empty) bodies.
  expressApp.use('/checkout', express.urlencoded({ extended: false, limit: '1kb' }));
  // The chart page's Buy form posts one e-mail address.
  expressApp.use('/charts', express.urlencoded({ extended: false, limit: '2kb' }));
  // My licenses' forms: an e-mail address, a sign-in token, or nothing.
  expressApp.use('/my', express.urlencoded({ extended: false, limit: '2kb' }));
  // The account pages' forms: a link token, an e-mail address, a new password twice.
  expressApp.use('/account', express.urlencoded({ extended: false, limit: '2kb' }));
  // The console's forms (sign-in, listing, grants, notes, profile); uploads are multipart, read by the
  // handler after the console guard has checked the session and the Origin.
  expressApp.use('/console', express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }));
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
  // Cached chart pulls are answered before Express (see HelmPullLane); everything else reaches it as before.
  const server = app.getHttpServer() as Server;
  const [expressListener, ...others] = server.listeners('request') as RequestListener[];
  if (!expressListener || others.length)
    throw new Error('expected exactly one request listener (Express) on the HTTP server');
  server.removeAllListeners('request');
  server.on('request', app.get(HelmPullLane).wrap(expressListener));
}
