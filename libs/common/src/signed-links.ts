import { createHmac, timingSafeEqual } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Tokens for mailed links: `<row id>.<HMAC of the id>`. Only the id is stored, so the database alone can
 * neither rebuild nor forge a link; every replica holding the same secret derives the same token.
 */
export class SignedLinkIds {
  private readonly key: Buffer;

  /** `purpose` separates the keys of different kinds of link (a sign-in link is no reset link). */
  constructor(secret: string, purpose: string) {
    this.key = createHmac('sha256', secret).update(purpose).digest();
  }

  tokenFor(id: string): string {
    return `${id}.${this.secretOf(id)}`;
  }

  /** The row id a token names, when its signature is right; undefined for anything else. */
  idOf(token: unknown): string | undefined {
    if (typeof token !== 'string' || token.length > 200) return undefined;
    const dot = token.indexOf('.');
    const id = token.slice(0, dot);
    if (dot < 0 || !UUID.test(id)) return undefined;
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.secretOf(id));
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  }

  private secretOf(id: string): string {
    return createHmac('sha256', this.key).update(id).digest('base64url');
  }
}
