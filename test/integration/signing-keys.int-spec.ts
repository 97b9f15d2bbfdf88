import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@berth/config';
import { LicenseService, SigningKeysService } from '@berth/licensing';
import { createApp } from '../../apps/store/src/main';
import { DataSource } from 'typeorm';
import { createPublisher, Publisher, putListing, uploadChart } from '../support/api';
import { simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';

type Jwks = {
  keys: Array<{ kid: string; alg: string; kty: string; crv: string; x: string; y: string; d?: string }>;
};

describe('license signing keys on postgres', () => {
  let store: InProcessStore;
  let pub: Publisher;

  beforeAll(async () => {
    store = await startInProcess('postgres', {
      LICENSE_SIGNING_SECRET: 'a-test-only-license-signing-secret-0123456789',
    });
    pub = await createPublisher(store.url, 'keys', ['charts:write', 'listings:write', 'licenses:write']);
    await uploadChart(store.url, 'keys', pub.apiToken, await simpleChart('app', '1.0.0'));
    await putListing(store.url, 'keys', pub.apiToken, 'app', {
      price: { amount: 900, currency: 'usd' },
      updatePolicy: { kind: 'all' },
      published: true,
    });
  }, 60_000);
  afterAll(async () => store?.close());

  const grant = async () => {
    const res = await fetch(`${store.url}/v1/publishers/keys/licenses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pub.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ chart: 'app', email: 'friend@example.test' }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; key: string };
  };
  const verify = async (key: string) =>
    (await (
      await fetch(`${store.url}/v1/licenses/verify`, { method: 'POST', body: JSON.stringify({ key }) })
    ).json()) as { valid: boolean };
  const jwks = async () => (await (await fetch(`${store.url}/.well-known/jwks.json`)).json()) as Jwks;
  const kidOf = (key: string) =>
    JSON.parse(Buffer.from(key.slice('berth_lic_'.length).split('.')[0], 'base64url').toString())
      .kid as string;

  it('publishes public ES256 keys only, and stores the private key sealed', async () => {
    const set = await jwks();
    expect(set.keys).toHaveLength(1);
    expect(set.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(set.keys[0].d).toBeUndefined();
    const [row] = await store.app.get(DataSource).query('SELECT private_key_encrypted FROM signing_key');
    expect(row.private_key_encrypted).toMatch(/^v1:/);
    expect(row.private_key_encrypted).not.toContain('PRIVATE KEY');
  });

  it('rotates: new keys sign with the new kid, old keys keep verifying and stay in the JWKS', async () => {
    const before = await grant();
    const oldKid = kidOf(before.key);
    const newKid = await store.app.get(SigningKeysService).rotate();
    expect(newKid).not.toBe(oldKid);
    const after = await grant();
    expect(kidOf(after.key)).toBe(newKid);
    expect((await jwks()).keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    expect((await verify(before.key)).valid).toBe(true);
    expect((await verify(after.key)).valid).toBe(true);
    // Re-showing an old license signs it again with the active key; both strings stay valid.
    const [{ id: publisherId }] = await store.app
      .get(DataSource)
      .query('SELECT id FROM publisher WHERE slug = $1', ['keys']);
    const licenses = store.app.get(LicenseService);
    const reissued = licenses.keyFor(await licenses.requireForPublisher(publisherId, before.id));
    expect(kidOf(reissued)).toBe(newKid);
    expect((await verify(reissued)).valid).toBe(true);
  });

  it('refuses to start with a different LICENSE_SIGNING_SECRET rather than sign with a key it cannot read', async () => {
    const config = loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'berth-keys-')),
      DATABASE_URL: store.db!.url,
      LICENSE_SIGNING_SECRET: 'b-different-license-signing-secret-0123456789',
      LOG_LEVEL: 'silent',
    });
    const app = await createApp(config);
    const started = await app.init().then(
      () => null,
      (e: Error) => e,
    );
    await app.close().catch(() => undefined);
    expect(started?.message).toMatch(/LICENSE_SIGNING_SECRET differs/);
    expect(started?.message).not.toContain('a-test-only');
  });
});
