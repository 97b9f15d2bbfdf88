import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import express, { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { Metrics } from '../ops/metrics';
import { sendError, toErrorBody } from './error.filter';

/** Everything about HTTP that is not a route: parsers, validation, errors, metrics. Shared by main and tests. */
export function configureHttp(app: INestApplication): void {
  const expressApp = app as NestExpressApplication;
  expressApp.useLogger(app.get(Logger));
  expressApp.disable('x-powered-by');
  expressApp.set('etag', false);
  expressApp.set('trust proxy', false);
  expressApp.use(app.get(Metrics).middleware());
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
