import { AccountsErrors, LOGO_MAX_BYTES } from '@berth/accounts';
import busboy from 'busboy';
import type { Request } from 'express';
import { formField } from '../form-field';
import { HttpErrors } from '../http-errors';

/** The profile form as posted: its text fields, and the uploaded logo's bytes if a file was chosen. */
export interface PostedProfileForm {
  displayName: string;
  supportEmail: string;
  logoUrl: string;
  removeLogo: boolean;
  logo?: Buffer;
}

const TEXT_FIELDS = ['displayName', 'supportEmail', 'logoUrl', 'removeLogo'] as const;
/** The form's text fields are short; the file is the logo, at most LOGO_MAX_BYTES. */
const MAX_FIELD_BYTES = 4096;
const MAX_BODY_BYTES = LOGO_MAX_BYTES + 64 * 1024;

const fromFields = (get: (name: string) => string, logo?: Buffer): PostedProfileForm => ({
  displayName: get('displayName'),
  supportEmail: get('supportEmail'),
  logoUrl: get('logoUrl'),
  removeLogo: get('removeLogo') === 'on',
  ...(logo?.length ? { logo } : {}),
});

/**
 * Reads the console's profile form: urlencoded (no file; parsed before the route) or multipart with a
 * `logo` file. Called by the handler, so only after the console guard has checked the session and the
 * Origin. A logo over LOGO_MAX_BYTES is `logo_too_large`; the rest of the body is drained so the page
 * can answer.
 */
export function readProfileForm(req: Request): Promise<PostedProfileForm> {
  if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? ''))
    return Promise.resolve(fromFields((name) => formField(req, name)));
  if (Number(req.headers['content-length'] ?? NaN) > MAX_BODY_BYTES)
    return Promise.reject(AccountsErrors.LogoTooLarge(LOGO_MAX_BYTES));
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: { fileSize: LOGO_MAX_BYTES, files: 1, fields: 10, parts: 12, fieldSize: MAX_FIELD_BYTES },
      });
    } catch {
      reject(HttpErrors.MultipartInvalid());
      return;
    }
    const fields = new Map<string, string>();
    const chunks: Buffer[] = [];
    let tooLarge = false;
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.resume();
      reject(e);
    };
    req.once('error', (e) => fail(e));
    bb.on('field', (name, value) => {
      if ((TEXT_FIELDS as readonly string[]).includes(name)) fields.set(name, value.trim());
    });
    bb.on('file', (name, stream) => {
      if (name !== 'logo') {
        stream.resume();
        return;
      }
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        tooLarge = true;
        chunks.length = 0;
        stream.resume();
      });
    });
    bb.on('error', () => fail(HttpErrors.MultipartInvalid()));
    bb.on('close', () => {
      if (failed) return;
      if (tooLarge) return reject(AccountsErrors.LogoTooLarge(LOGO_MAX_BYTES));
      resolve(fromFields((name) => fields.get(name) ?? '', Buffer.concat(chunks)));
    });
    req.pipe(bb);
  });
}
