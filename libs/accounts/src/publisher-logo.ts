import { AccountsErrors } from './errors';

/** The longest display name (the column's length, in characters). */
export const DISPLAY_NAME_MAX = 100;
/** The longest logo address kept (as the URL parser writes it). */
export const LOGO_URL_MAX = 2048;
/** The largest uploaded logo. */
export const LOGO_MAX_BYTES = 256 * 1024;

/** The image types a logo may have; told by the first bytes (see sniffLogo), never by a name or header. */
export const LOGO_CONTENT_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type LogoContentType = (typeof LOGO_CONTENT_TYPES)[number];

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The type of an uploaded logo from its magic bytes: PNG, JPEG or WebP, or refused
 * (`logo_type_unsupported`) whatever the client called it. SVG is never accepted (it can carry script),
 * and neither is an HTML page named `.png`.
 */
export function sniffLogo(bytes: Buffer): LogoContentType {
  if (bytes.length >= 16 && bytes.subarray(0, 8).equals(PNG)) return 'image/png';
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (
    bytes.length >= 16 &&
    bytes.toString('latin1', 0, 4) === 'RIFF' &&
    bytes.toString('latin1', 8, 12) === 'WEBP'
  )
    return 'image/webp';
  throw AccountsErrors.LogoTypeUnsupported();
}

/** The file extension of a logo blob's key. */
export const logoExtension = (type: LogoContentType): string =>
  type === 'image/png' ? 'png' : type === 'image/jpeg' ? 'jpg' : 'webp';

/** A display name as kept: trimmed, 1 to DISPLAY_NAME_MAX characters, no control characters. */
export function acceptableDisplayName(input: string): string {
  const name = input.normalize('NFC').trim();
  const chars = [...name].length;
  if (chars < 1 || chars > DISPLAY_NAME_MAX || /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.test(name))
    throw AccountsErrors.DisplayNameInvalid(DISPLAY_NAME_MAX);
  return name;
}

/** A logo address as kept: an absolute https URL with a host and no credentials, at most LOGO_URL_MAX. */
export function acceptableLogoUrl(input: string): string {
  const refused = () => AccountsErrors.LogoUrlInvalid(LOGO_URL_MAX);
  const text = input.trim();
  if (!text || text.length > LOGO_URL_MAX || /[\s\p{Cc}]/u.test(text)) throw refused();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refused();
  }
  if (url.protocol !== 'https:' || !url.hostname || url.username || url.password) throw refused();
  if (url.href.length > LOGO_URL_MAX) throw refused();
  return url.href;
}
