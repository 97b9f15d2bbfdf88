import { Injectable } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';

/** Argon2id with OWASP's minimum parameters (19 MiB, t=2, p=1). */
const OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasher {
  // A real hash of a random string, verified against when the e-mail is unknown, so that a login for
  // an unknown account costs the same time as one for a known account.
  private readonly dummy = hash('berth-dummy-password-for-timing', OPTIONS);

  hash(password: string): Promise<string> {
    return hash(password, OPTIONS);
  }

  async verify(passwordHash: string | null, password: string): Promise<boolean> {
    try {
      const ok = await verify(passwordHash ?? (await this.dummy), password);
      return passwordHash !== null && ok;
    } catch {
      return false;
    }
  }
}
