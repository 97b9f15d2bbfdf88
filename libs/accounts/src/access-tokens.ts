import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import jwt from 'jsonwebtoken';
import { AccountsErrors } from './errors';

const AUDIENCE = 'berth:access';

/** Short-lived HS256 session tokens for the publisher dashboard and API. */
@Injectable()
export class AccessTokens {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  issue(accountId: string, sessionEpoch: number): { accessToken: string; expiresIn: number } {
    const expiresIn = this.config.auth.accessTokenTtlSeconds;
    const accessToken = jwt.sign({ sev: sessionEpoch }, this.config.auth.accessTokenSecret, {
      algorithm: 'HS256',
      subject: accountId,
      // Two logins in the same second are two sessions: never the same string (the failure limiter
      // counts refusals per credential).
      jwtid: randomUUID(),
      audience: AUDIENCE,
      issuer: this.config.publicUrl,
      expiresIn,
    });
    return { accessToken, expiresIn };
  }

  /**
   * The account id and session epoch, or a 401 error; the algorithm is pinned, never read from the
   * token. The caller still compares the epoch with the account's (a signature alone cannot be revoked).
   * Tokens issued before epochs existed carry none and count as epoch 0.
   */
  verify(token: string): { accountId: string; sessionEpoch: number } {
    try {
      const claims = jwt.verify(token, this.config.auth.accessTokenSecret, {
        algorithms: ['HS256'],
        audience: AUDIENCE,
        issuer: this.config.publicUrl,
      }) as jwt.JwtPayload;
      if (typeof claims.sub !== 'string') throw new Error('no subject');
      const sev: unknown = claims.sev ?? 0;
      if (typeof sev !== 'number' || !Number.isSafeInteger(sev)) throw new Error('bad epoch');
      return { accountId: claims.sub, sessionEpoch: sev };
    } catch {
      throw AccessTokens.invalid();
    }
  }

  /** One answer for a forged, expired, signed-out or deleted account's token. */
  static invalid() {
    return AccountsErrors.AccessTokenInvalid();
  }

  /** Cheap shape test so callers can tell an access token from an API token without verifying. */
  static looksLikeJwt(token: string): boolean {
    return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
  }
}
