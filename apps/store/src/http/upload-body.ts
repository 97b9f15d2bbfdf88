import { CatalogErrors, MAX_PROVENANCE_BYTES } from '@berth/catalog';
import type { DomainError } from '@berth/common';
import busboy from 'busboy';
import type { Request } from 'express';
import { HttpErrors } from './http-errors';
import { bodyAlreadyRead, consumedBody } from './body-parsing';

export interface UploadBody {
  chart?: Buffer;
  prov?: Buffer;
}

/**
 * How slow a body may be: no byte for `idleTimeoutMs` ends it, and so does an average below
 * `minBytesPerSecond` once `idleTimeoutMs` has passed since the first byte was awaited.
 */
export interface BodyPace {
  idleTimeoutMs: number;
  minBytesPerSecond: number;
}

const uploadTooLarge = (max: number) => HttpErrors.UploadTooLarge(max);
const multipartInvalid = () => HttpErrors.MultipartInvalid();

/**
 * Watches a body's pace; `fed(n)` for every chunk, `stop()` when reading ends. Calls `onStall` once, with
 * a 408 error, after the response was marked to close the connection (the rest of a stalled body is not
 * waited for, so the upload's slot is free at once).
 */
function watchPace(req: Request, pace: BodyPace | undefined, onStall: (e: DomainError) => void) {
  if (!pace) return { fed: () => undefined, stop: () => undefined };
  const started = Date.now();
  let received = 0;
  let done = false;
  const stall = (why: string) => {
    if (done) return;
    done = true;
    clearTimeout(idle);
    req.res?.setHeader('Connection', 'close');
    onStall(HttpErrors.UploadTooSlow(why));
  };
  const idle = setTimeout(
    () => stall(`The upload body sent nothing for ${pace.idleTimeoutMs / 1000} seconds.`),
    pace.idleTimeoutMs,
  );
  return {
    fed(n: number) {
      if (done) return;
      received += n;
      idle.refresh();
      const elapsedMs = Date.now() - started;
      if (elapsedMs > pace.idleTimeoutMs && (received * 1000) / elapsedMs < pace.minBytesPerSecond) {
        stall(`The upload body came in slower than ${pace.minBytesPerSecond} bytes per second.`);
      }
    },
    stop() {
      done = true;
      clearTimeout(idle);
    },
  };
}

/** Reads the raw request body up to `max` bytes, failing as soon as it is passed (or, with `pace`, stalls). */
export function readRawBody(
  req: Request,
  max: number,
  bodyTooLarge: (max: number) => Error = uploadTooLarge,
  pace?: BodyPace,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return Promise.reject(bodyTooLarge(max));
  const consumed = consumedBody(req);
  if (consumed === null) return Promise.reject(bodyAlreadyRead());
  if (consumed) return consumed.length > max ? Promise.reject(bodyTooLarge(max)) : Promise.resolve(consumed);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      watch.stop();
      req.off('data', onData);
      req.resume(); // drain what is in flight so the error can be written; the socket closes after it
      reject(e);
    };
    const watch = watchPace(req, pace, fail);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return fail(bodyTooLarge(max));
      chunks.push(chunk);
      watch.fed(chunk.length);
    };
    req.on('data', onData);
    req.once('end', () => {
      watch.stop();
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.once('error', (e) => fail(e));
    req.once('close', () => watch.stop());
  });
}

/**
 * ChartMuseum's upload: a raw `.tgz` body, or multipart with file fields `chart` and `prov`
 * (what `helm cm-push` sends). Nothing is written anywhere until the caller has inspected it.
 */
export async function readUploadBody(req: Request, max: number, pace?: BodyPace): Promise<UploadBody> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(type)) {
    const raw = await readRawBody(req, max, uploadTooLarge, pace);
    return { chart: raw };
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) throw uploadTooLarge(max);
  // A parser took the stream: busboy would wait for it forever.
  if (consumedBody(req) !== undefined) throw bodyAlreadyRead();
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: max, files: 2, fields: 10, parts: 12 } });
    } catch {
      reject(multipartInvalid());
      return;
    }
    const out: UploadBody = {};
    let total = 0;
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      watch.stop();
      req.unpipe(bb);
      req.resume();
      reject(e);
    };
    const watch = watchPace(req, pace, fail);
    req.on('data', (c: Buffer) => watch.fed(c.length));
    req.once('close', () => watch.stop());
    // A client that goes away mid-body: busboy never hears of it, so its slot would be held for good.
    req.once('error', (e) => fail(e));
    bb.on('file', (field, stream, info) => {
      if (field !== 'chart' && field !== 'prov') {
        stream.resume();
        return;
      }
      const limit = field === 'prov' ? MAX_PROVENANCE_BYTES : max;
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        total += c.length;
        if (size > limit || total > max) {
          stream.resume();
          return fail(
            field === 'prov'
              ? CatalogErrors.ProvenanceInvalid('The provenance file is too large.')
              : uploadTooLarge(max),
          );
        }
        chunks.push(c);
      });
      stream.on('limit', () => fail(uploadTooLarge(max)));
      stream.on('end', () => {
        // A browser sends a file input left empty as a part with no file name and no bytes: no file.
        if (!failed && !(size === 0 && !info.filename)) out[field] = Buffer.concat(chunks);
      });
    });
    bb.on('error', () => fail(multipartInvalid()));
    bb.on('close', () => {
      watch.stop();
      if (!failed) resolve(out);
    });
    req.pipe(bb);
  });
}
