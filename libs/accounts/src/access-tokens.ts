import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import jwt from 'jsonwebtoken';
import { AccountsErrors } from './errors';

const AUDIENCE = 'berth:access';

/** Short-lived HS256 session tokens for the publisher dashboard and API. */
@Injectable()
export class AccessTokens {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  issue(accountId: string): { accessToken: string; expiresIn: number } {
    const expiresIn = this.config.auth.accessTokenTtlSeconds;
    const accessToken = jwt.sign({}, this.config.auth.accessTokenSecret, {
      algorithm: 'HS256',
      subject: accountId,
      audience: AUDIENCE,
      issuer: this.config.publicUrl,
      expiresIn,
    });
    return { accessToken, expiresIn };
  }

  /** The account id, or a 401 error; the algorithm is pinned, never read from the token. */
  verify(token: string): string {
    try {
      const claims = jwt.verify(token, this.config.auth.accessTokenSecret, {
        algorithms: ['HS256'],
        audience: AUDIENCE,
        issuer: this.config.publicUrl,
      }) as jwt.JwtPayload;
      if (typeof claims.sub !== 'string') throw new Error('no subject');
      return claims.sub;
    } catch {
      throw AccountsErrors.AccessTokenInvalid();
    }
  }

  /** Cheap shape test so callers can tell an access token from an API token without verifying. */
  static looksLikeJwt(token: string): boolean {
    return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
  }
}
