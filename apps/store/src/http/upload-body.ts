import { MAX_PROVENANCE_BYTES } from '@berth/catalog';
import { invalid, tooLarge } from '@berth/common';
import busboy from 'busboy';
import type { Request } from 'express';
import { bodyAlreadyRead, consumedBody } from './body-parsing';

export interface UploadBody {
  chart?: Buffer;
  prov?: Buffer;
}

const uploadTooLarge = (max: number) =>
  tooLarge('upload_too_large', `The upload is larger than the limit of ${max} bytes.`);

/** Reads the raw request body up to `max` bytes, failing as soon as it is passed. */
export function readRawBody(
  req: Request,
  max: number,
  bodyTooLarge: (max: number) => Error = uploadTooLarge,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return Promise.reject(bodyTooLarge(max));
  const consumed = consumedBody(req);
  if (consumed === null) return Promise.reject(bodyAlreadyRead());
  if (consumed) return consumed.length > max ? Promise.reject(bodyTooLarge(max)) : Promise.resolve(consumed);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.resume(); // drain what is in flight so the 413 can be written; the socket closes after it
        reject(bodyTooLarge(max));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => size <= max && resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/**
 * ChartMuseum's upload: a raw `.tgz` body, or multipart with file fields `chart` and `prov`
 * (what `helm cm-push` sends). Nothing is written anywhere until the caller has inspected it.
 */
export async function readUploadBody(req: Request, max: number): Promise<UploadBody> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(type)) {
    const raw = await readRawBody(req, max);
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
      reject(invalid('multipart_invalid', 'The multipart body is malformed.'));
      return;
    }
    const out: UploadBody = {};
    let total = 0;
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.resume();
      reject(e);
    };
    bb.on('file', (field, stream) => {
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
              ? invalid('provenance_invalid', 'The provenance file is too large.')
              : uploadTooLarge(max),
          );
        }
        chunks.push(c);
      });
      stream.on('limit', () => fail(uploadTooLarge(max)));
      stream.on('end', () => {
        if (!failed) out[field] = Buffer.concat(chunks);
      });
    });
    bb.on('error', () => fail(invalid('multipart_invalid', 'The multipart body is malformed.')));
    bb.on('close', () => !failed && resolve(out));
    req.pipe(bb);
  });
}
