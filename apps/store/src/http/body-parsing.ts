import express, { Request, RequestHandler } from 'express';
import { HttpErrors } from './http-errors';

/** Deepest nesting of arrays and objects a JSON body may have; DTOs need a handful of levels. */
export const MAX_JSON_DEPTH = 32;

/** The exact bytes a body parser consumed, kept for a route that reads its body raw (see readRawBody). */
const KEPT_BODY = Symbol('keptBody');
type WithKeptBody = Request & { [KEPT_BODY]?: Buffer; _body?: boolean };

/**
 * Whether `bytes` (JSON) nests deeper than `max`. A linear scan outside strings, run before JSON.parse
 * so a `[[[[…` bomb never reaches the parser, class-transformer or class-validator (whose recursion
 * would overflow the stack and answer 500).
 */
export function jsonNestsDeeperThan(bytes: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

function decodeText(bytes: Buffer, encoding: string): string {
  try {
    return new TextDecoder(encoding).decode(bytes);
  } catch {
    throw HttpErrors.BadRequest();
  }
}

/**
 * Routes under /v1 that read their body raw (the signature of a webhook covers the exact bytes; a logo
 * is an image). The same test as Express's routing: case-insensitive, trailing slash optional. `path`
 * is relative to /v1.
 */
const RAW_V1_ROUTES = /^\/(webhooks\/stripe(?:-connect)?|publishers\/[^/]+\/logo)\/?$/i;

/**
 * JSON whatever the Content-Type says (so `curl -d '{...}'` works), small, depth-capped, on /v1 except
 * the raw routes. The bytes it consumed are kept on the request, so a raw route reached through a
 * spelling the test above did not foresee still gets its body instead of waiting for one that is gone.
 */
export function v1JsonParser(): RequestHandler {
  return express.json({
    limit: '64kb',
    strict: true,
    type: (req) => !RAW_V1_ROUTES.test((req.url ?? '/').split('?')[0]),
    verify: (req, _res, bytes, encoding) => {
      (req as WithKeptBody)[KEPT_BODY] = bytes;
      // The parser accepts any utf-* charset; scan the text it will parse, not bytes in another encoding
      // (in UTF-16 a character's bytes can look like a quote and hide the nesting from a UTF-8 scan).
      const utf8 = /^utf-?8$/i.test(encoding) ? bytes : Buffer.from(decodeText(bytes, encoding));
      if (jsonNestsDeeperThan(utf8, MAX_JSON_DEPTH)) throw HttpErrors.JsonTooDeep(MAX_JSON_DEPTH);
    },
  });
}

/**
 * For raw readers: the body a parser already consumed (the kept bytes), `null` when it was consumed
 * and nothing was kept, `undefined` when the stream is still unread. Reading a consumed stream would
 * wait forever for data that already went by.
 */
export function consumedBody(req: Request): Buffer | null | undefined {
  const r = req as WithKeptBody;
  if (r[KEPT_BODY]) return r[KEPT_BODY];
  return r._body || r.readableEnded ? null : undefined;
}

export const bodyAlreadyRead = () => HttpErrors.BodyAlreadyRead();
