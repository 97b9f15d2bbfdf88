import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  randomBytes,
} from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { ChangeFeed } from '@berth/database';
import { DataSource, IsNull } from 'typeorm';
import { SigningKeyEntity } from './entities';

const KEYGEN_LOCK = 0x6b657973; // "keys": one replica generates the first key

export interface VerificationKey {
  kid: string;
  algorithm: 'ES256';
  publicKey: KeyObject;
}

/** RFC 7638 thumbprint: a kid anyone can recompute from the public JWK. */
export function jwkThumbprint(jwk: Record<string, string>): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * ES256 signing keys. Private keys live in the database sealed with AES-256-GCM under
 * LICENSE_SIGNING_SECRET, so every replica signs with the same key and a database dump alone cannot
 * forge licenses. The first start generates a key; `npm run keys:rotate` adds one and retires the rest
 * (retired keys keep verifying: they stay in the JWKS).
 */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private readonly logger = new Logger(SigningKeysService.name);
  private verification = new Map<string, VerificationKey>();
  private signing: { kid: string; privateKey: KeyObject } | null = null;
  private lastReload = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly changes: ChangeFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.ensureActiveKey();
    await this.reload();
    // A rotation anywhere (another replica, `npm run keys:rotate`) is signed with here at once.
    this.changes.subscribe(
      'signing_keys',
      () =>
        void this.reload(true).catch((e) =>
          this.logger.warn({ msg: 'signing key reload failed', err: (e as Error).message }),
        ),
    );
  }

  private sealingKey(): Buffer {
    return createHash('sha256')
      .update(`berth-signing-key-v1:${this.config.licensing.signingSecret}`)
      .digest();
  }

  private seal(pem: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealingKey(), iv);
    const data = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
    return [
      'v1',
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      data.toString('base64'),
    ].join(':');
  }

  private unseal(sealed: string): string {
    const [v, iv, tag, data] = sealed.split(':');
    if (v !== 'v1') throw new Error('unknown sealed key format');
    const decipher = createDecipheriv('aes-256-gcm', this.sealingKey(), Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }

  /** Generates a new signing key and retires every other one; returns its kid. */
  async rotate(): Promise<string> {
    const kid = await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [KEYGEN_LOCK]);
      const created = this.generate();
      await m.update(SigningKeyEntity, { retiredAt: IsNull() }, { retiredAt: new Date() });
      await m.insert(SigningKeyEntity, created);
      await this.changes.publish('signing_keys', created.kid, m);
      return created.kid;
    });
    await this.reload(true);
    return kid;
  }

  private generate(): SigningKeyEntity {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
    const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
    const entity = new SigningKeyEntity();
    entity.kid = jwkThumbprint(publicJwk);
    entity.algorithm = 'ES256';
    entity.publicJwk = publicJwk;
    entity.privateKeyEncrypted = this.seal(privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    entity.retiredAt = null;
    return entity;
  }

  private async ensureActiveKey(): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [KEYGEN_LOCK]);
      const active = await m.count(SigningKeyEntity, { where: { retiredAt: IsNull() } });
      if (active > 0) return;
      const created = this.generate();
      await m.insert(SigningKeyEntity, created);
      this.logger.log({ msg: 'generated the first license signing key', kid: created.kid });
    });
  }

  /** Reloads keys from the database; without `force`, at most once every 5 s (unknown kids trigger it). */
  async reload(force = false): Promise<void> {
    if (!force && Date.now() - this.lastReload < 5000) return;
    this.lastReload = Date.now();
    const rows = await this.dataSource.getRepository(SigningKeyEntity).find({ order: { createdAt: 'DESC' } });
    const next = new Map<string, VerificationKey>();
    for (const r of rows) {
      next.set(r.kid, {
        kid: r.kid,
        algorithm: r.algorithm,
        publicKey: createPublicKey({ key: r.publicJwk, format: 'jwk' }),
      });
    }
    this.verification = next;
    const active = rows.find((r) => !r.retiredAt);
    if (active && this.signing?.kid !== active.kid) {
      try {
        this.signing = {
          kid: active.kid,
          privateKey: createPrivateKey(this.unseal(active.privateKeyEncrypted)),
        };
      } catch {
        // Never log the sealed material; say what to fix.
        throw new Error(
          'Cannot unseal the license signing key: LICENSE_SIGNING_SECRET differs from the one that sealed it.',
        );
      }
    }
  }

  signingKey(): { kid: string; privateKey: KeyObject } {
    if (!this.signing) throw new Error('no active signing key');
    return this.signing;
  }

  async verificationKey(kid: string): Promise<VerificationKey | null> {
    const known = this.verification.get(kid);
    if (known) return known;
    await this.reload();
    return this.verification.get(kid) ?? null;
  }

  /** Every public key that ever signed: offline verifiers need the old ones too. */
  async jwks(): Promise<{ keys: Array<Record<string, string>> }> {
    const rows = await this.dataSource.getRepository(SigningKeyEntity).find({ order: { createdAt: 'ASC' } });
    return { keys: rows.map((r) => ({ ...r.publicJwk, kid: r.kid, alg: r.algorithm, use: 'sig' })) };
  }
}
