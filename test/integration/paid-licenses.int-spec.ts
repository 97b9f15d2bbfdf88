import { createHmac, createPublicKey, generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { SigningKeysService } from '@berth/licensing';
import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import {
  createPublisher,
  json,
  Publisher,
  putListing,
  uploadChart,
  postJson as post,
  statusAndCode as code,
  bearer,
  basicAuth as basic,
} from '../support/api';
import { simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';
import { startCheckout } from '../support/checkout';

/**
 * License keys and the licensed Helm repository, on the local payment provider and the default license
 * status cache (30 s, a backstop behind the change feed): forged and foreign keys, complimentary grants,
 * publisher revocation.
 */

const PUBLIC_URL = 'https://berth.example.test';
const PREFIX = 'berth_lic_';

type License = { id: string; key: string };
type Index = { entries: Record<string, Array<{ version: string }>> };
type VerifyResult = {
  valid: boolean;
  reason?: string;
  license?: { id: string; chart: string; status: string };
};

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const parts = (key: string) => {
  const [h, p, s] = key.slice(PREFIX.length).split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
    h,
    p,
    s,
  };
};
const versionsIn = (body: Index | null) =>
  Object.fromEntries(Object.entries(body?.entries ?? {}).map(([k, v]) => [k, v.map((e) => e.version)]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('license keys and the licensed repository on postgres', () => {
  let store: InProcessStore;
  let db: DataSource;
  let acme: Publisher;
  let globex: Publisher;
  /** A purchased superdb license (major policy: >=2.0.0 <3.0.0-0). */
  let bought: License & { sessionId: string; orderId: string };

  const licenseCount = async () => Number((await db.query(`SELECT count(*)::int AS n FROM license`))[0].n);
  const orderCount = async () => Number((await db.query(`SELECT count(*)::int AS n FROM "order"`))[0].n);
  const verify = async (key: string, extra: Record<string, string> = {}) => {
    const res = await post(`${store.url}/v1/licenses/verify`, { key, ...extra });
    expect(res.status).toBe(200);
    return (await res.json()) as VerifyResult;
  };
  const index = async (slug: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${store.url}/helm/${slug}/index.yaml`, {
      headers: { 'accept-encoding': 'identity', ...headers },
    });
    return { res, body: res.status === 200 ? ((await res.json()) as Index) : null };
  };
  const tgz = (slug: string, file: string, headers: Record<string, string> = {}) =>
    fetch(`${store.url}/helm/${slug}/charts/${file}`, { headers });
  const grant = (slug: string, token: string, body: Record<string, unknown>) =>
    post(`${store.url}/v1/publishers/${slug}/licenses`, body, bearer(token));
  const granted = async (slug: string, token: string, body: Record<string, unknown>) => {
    const res = await grant(slug, token, body);
    const out = (await json(res)) as License & Record<string, unknown>;
    expect([res.status, out]).toEqual([
      201,
      expect.objectContaining({ id: expect.any(String), key: expect.stringMatching(/^berth_lic_/) }),
    ]);
    return out;
  };
  /** Buys through the local provider's pay page, exactly as a browser would. */
  const buyLocally = async (publisher: string, chart: string, email = 'buyer@example.com') => {
    const c = await startCheckout(store.url, { publisher, chart, email });
    expect(c.checkoutUrl).toBe(`${PUBLIC_URL}/checkout/local/${c.sessionId}`);
    const path = new URL(c.checkoutUrl).pathname;
    expect((await fetch(`${store.url}${path}`)).status).toBe(200);
    const pay = await fetch(`${store.url}${path}/pay`, { method: 'POST', redirect: 'manual' });
    expect(pay.status).toBe(303);
    expect(pay.headers.get('location')).toBe(
      `${PUBLIC_URL}/checkout/success?session_id=${encodeURIComponent(c.sessionId)}`,
    );
    const st = (await (await fetch(`${store.url}/v1/checkout/${c.sessionId}`)).json()) as {
      status: string;
      license: License;
    };
    expect(st.status).toBe('paid');
    return { ...st.license, sessionId: c.sessionId, orderId: c.orderId };
  };
  /** Signs claims with the store's real signing key, taken from the running app (what only the store can do). */
  const signWithStoreKey = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const { kid, privateKey } = store.app.get(SigningKeysService).signingKey();
    return (
      PREFIX +
      jwt.sign(claims, privateKey, {
        algorithm: 'ES256',
        header: { alg: 'ES256', kid, typ: 'JWT', ...header },
      })
    );
  };

  beforeAll(async () => {
    store = await startInProcess('postgres', { PUBLIC_URL });
    db = store.app.get(DataSource);
    acme = await createPublisher(store.url, 'acme');
    globex = await createPublisher(store.url, 'globex');
    const uploads: Array<[Publisher, string, string]> = [
      [acme, 'superdb', '1.0.0'],
      [acme, 'superdb', '1.5.0'],
      [acme, 'superdb', '2.0.0'],
      [acme, 'superdb', '2.1.0'],
      [acme, 'addon', '1.0.0'],
      [acme, 'tools', '0.3.0'],
      [globex, 'superdb', '1.0.0'],
      [globex, 'superdb', '2.0.0'],
    ];
    for (const [p, name, version] of uploads) {
      expect(
        (await uploadChart(store.url, p.slug, p.apiToken, await simpleChart(name, version))).status,
      ).toBe(201);
    }
    const paid = (kind: string) => ({
      price: { amount: 4900, currency: 'usd' },
      updatePolicy: { kind },
      published: true,
    });
    expect((await putListing(store.url, 'acme', acme.apiToken, 'superdb', paid('major'))).status).toBe(200);
    expect((await putListing(store.url, 'acme', acme.apiToken, 'addon', paid('all'))).status).toBe(200);
    expect((await putListing(store.url, 'acme', acme.apiToken, 'tools')).status).toBe(200);
    expect((await putListing(store.url, 'globex', globex.apiToken, 'superdb', paid('all'))).status).toBe(200);
    bought = await buyLocally('acme', 'superdb');
  }, 60_000);
  afterAll(async () => store?.close());

  it('lets the genuine purchased key read exactly the covered versions', async () => {
    expect(await verify(bought.key, { publisher: 'acme', chart: 'superdb', version: '2.1.0' })).toMatchObject(
      { valid: true, license: { id: bought.id, chart: 'superdb', status: 'active' } },
    );
    const { res, body } = await index('acme', basic(bought.id, bought.key));
    expect(res.status).toBe(200);
    expect(versionsIn(body)).toEqual({ superdb: ['2.1.0', '2.0.0'], tools: ['0.3.0'] });
    expect((await tgz('acme', 'superdb-2.0.0.tgz', basic(bought.id, bought.key))).status).toBe(200);
    expect(await code(await tgz('acme', 'superdb-1.5.0.tgz', basic(bought.id, bought.key)))).toEqual([
      401,
      'license_required',
    ]);
  });

  it('pays a local checkout once however often the pay button is pressed', async () => {
    const before = await licenseCount();
    const pay = await fetch(`${store.url}/checkout/local/${bought.sessionId}/pay`, {
      method: 'POST',
      redirect: 'manual',
    });
    expect(pay.status).toBe(303);
    expect(await licenseCount()).toBe(before);
    expect(
      await code(
        await fetch(`${store.url}/checkout/local/local_cs_nothing/pay`, {
          method: 'POST',
          redirect: 'manual',
        }),
      ),
    ).toEqual([404, 'checkout_not_found']);
    // The local store takes no Stripe webhooks.
    const hook = await fetch(`${store.url}/v1/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=x' },
      body: '{}',
    });
    expect(hook.status).toBe(400);
    expect(await licenseCount()).toBe(before);
  });

  describe('forged and tampered keys', () => {
    let jwksPem: string;
    let kid: string;
    beforeAll(async () => {
      const jwks = (await (await fetch(`${store.url}/.well-known/jwks.json`)).json()) as {
        keys: Array<Record<string, string>>;
      };
      kid = parts(bought.key).header.kid;
      const jwk = jwks.keys.find((k) => k.kid === kid)!;
      jwksPem = createPublicKey({ key: jwk, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      }) as string;
    });

    /** Each forgery is refused by verify with `reason`, and by the repository (index and archive) with 401. */
    const refusedEverywhere = async (what: string, key: string, reason: string, username = bought.id) => {
      const before = await licenseCount();
      const v = await verify(key);
      expect([what, v.valid, v.reason]).toEqual([what, false, reason]);
      // A key that does not verify reveals nothing about any license.
      expect([what, v.license]).toEqual([what, undefined]);
      const idx = await index('acme', basic(username, key));
      expect([what, ...(await code(idx.res))]).toEqual([what, 401, 'repository_credentials_invalid']);
      expect(idx.res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      const file = await tgz('acme', 'superdb-2.0.0.tgz', basic(username, key));
      expect([what, ...(await code(file))]).toEqual([what, 401, 'repository_credentials_invalid']);
      expect(await licenseCount()).toBe(before);
      // ...and the genuine key still works afterwards.
      expect((await index('acme', basic(bought.id, bought.key))).res.status).toBe(200);
    };

    it('refuses alg "none"', async () => {
      const { payload } = parts(bought.key);
      await refusedEverywhere(
        'alg none',
        `${PREFIX}${b64({ alg: 'none', kid, typ: 'JWT' })}.${b64(payload)}.`,
        'bad_signature',
      );
      await refusedEverywhere(
        'alg none, no kid',
        `${PREFIX}${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`,
        'malformed',
      );
    });

    it('refuses HS256 signed with the public key (from the JWKS) as the HMAC secret', async () => {
      const { payload } = parts(bought.key);
      for (const secret of [jwksPem, jwksPem.trim()]) {
        const signingInput = `${b64({ alg: 'HS256', kid, typ: 'JWT' })}.${b64(payload)}`;
        const sig = createHmac('sha256', secret).update(signingInput).digest('base64url');
        await refusedEverywhere(
          'HS256 with the public key',
          `${PREFIX}${signingInput}.${sig}`,
          'bad_signature',
        );
      }
    });

    it("refuses an unknown kid and a key signed by somebody else's key under the real kid", async () => {
      const { h, p, s, header, payload } = parts(bought.key);
      expect(h).toBeTruthy();
      await refusedEverywhere(
        'unknown kid',
        `${PREFIX}${b64({ ...header, kid: 'no-such-kid' })}.${p}.${s}`,
        'unknown_key',
      );
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const foreign = jwt.sign({ ...payload }, privateKey as KeyObject, {
        algorithm: 'ES256',
        header: { alg: 'ES256', kid, typ: 'JWT' },
      });
      await refusedEverywhere('foreign signer, real kid', PREFIX + foreign, 'bad_signature');
    });

    it('refuses tampered claims: range "*", another subject, a past exp, another chart', async () => {
      const { h, s, payload } = parts(bought.key);
      const tamper = (over: Record<string, unknown>) => `${PREFIX}${h}.${b64({ ...payload, ...over })}.${s}`;
      await refusedEverywhere('range *', tamper({ range: '*' }), 'bad_signature');
      await refusedEverywhere('another sub', tamper({ sub: randomUUID() }), 'bad_signature');
      // An expiry cannot be added or moved by the holder: the signature covers it.
      await refusedEverywhere(
        'exp in the past',
        tamper({ exp: Math.floor(Date.now() / 1000) - 60 }),
        'bad_signature',
      );
      await refusedEverywhere('another chart', tamper({ chart: 'addon' }), 'bad_signature');
    });

    it('refuses keys the store itself signed that are expired, from another issuer, or for no license', async () => {
      // Signed with the store's own private key (taken from the running app): the only way to reach
      // the checks that come after the signature.
      const { payload } = parts(bought.key);
      const now = Math.floor(Date.now() / 1000);
      await refusedEverywhere('expired', signWithStoreKey({ ...payload, exp: now - 60 }), 'expired');
      await refusedEverywhere(
        'wrong issuer',
        signWithStoreKey({ ...payload, iss: 'https://evil.example' }),
        'wrong_issuer',
      );
      await refusedEverywhere(
        'no issuer',
        signWithStoreKey({ pub: 'acme', chart: 'superdb', range: '*', upd: null, sub: bought.id }),
        'wrong_issuer',
      );
      await refusedEverywhere(
        'unknown license',
        signWithStoreKey({ ...payload, sub: randomUUID() }),
        'not_found',
      );
      // Sanity: the same path with the right claims is accepted, so the refusals above are about the claims.
      expect((await verify(signWithStoreKey({ ...payload, exp: now + 600 }))).valid).toBe(true);
    });

    it('refuses garbage, empty and oversized passwords, and a key without its prefix', async () => {
      const raw = bought.key.slice(PREFIX.length);
      const cases: Array<[string, string, string]> = [
        ['garbage', 'garbage', 'malformed'],
        ['prefix only', PREFIX, 'malformed'],
        ['prefixed garbage', `${PREFIX}garbage`, 'malformed'],
        ['three dots', `${PREFIX}a.b.c`, 'malformed'],
        ['8 KiB', PREFIX + 'A'.repeat(8192 - PREFIX.length), 'malformed'],
        ['no prefix', raw, 'malformed'],
      ];
      for (const [what, key, reason] of cases) {
        const v = await verify(key);
        expect([what, v]).toEqual([what, { valid: false, reason }]);
        const idx = await index('acme', basic(bought.id, key));
        expect([what, ...(await code(idx.res))]).toEqual([what, 401, 'repository_credentials_invalid']);
        expect(idx.res.headers.get('www-authenticate')).toMatch(/^Basic/);
        expect([what, (await tgz('acme', 'superdb-2.0.0.tgz', basic(bought.id, key))).status]).toEqual([
          what,
          401,
        ]);
      }
      expect(await verify('')).toEqual({ valid: false, reason: 'malformed' });
      expect(await code(await post(`${store.url}/v1/licenses/verify`, { key: 'x'.repeat(9000) }))).toEqual([
        400,
        'validation_failed',
      ]);
      expect(await code(await post(`${store.url}/v1/licenses/verify`, {}))).toEqual([
        400,
        'validation_failed',
      ]);
      // Empty password (Helm would not even send it) and a right key under the wrong username.
      for (const headers of [
        basic(bought.id, ''),
        basic(randomUUID(), bought.key),
        basic('', bought.key),
        { authorization: `Basic ${Buffer.from('x'.repeat(8192)).toString('base64')}` },
      ]) {
        const idx = await index('acme', headers);
        expect(await code(idx.res)).toEqual([401, 'repository_credentials_invalid']);
      }
      expect((await index('acme', basic(bought.id, bought.key))).res.status).toBe(200);
    });
  });

  describe('keys used out of their scope', () => {
    it('treats a key for another chart as exactly that: wrong_chart, and only its own chart in the index', async () => {
      const addon = await buyLocally('acme', 'addon');
      expect(await verify(addon.key, { publisher: 'acme', chart: 'superdb' })).toMatchObject({
        valid: false,
        reason: 'wrong_chart',
        license: { chart: 'addon' },
      });
      expect(await verify(addon.key, { publisher: 'acme', chart: 'addon', version: '1.0.0' })).toMatchObject({
        valid: true,
      });
      const { body } = await index('acme', basic(addon.id, addon.key));
      expect(versionsIn(body)).toEqual({ addon: ['1.0.0'], tools: ['0.3.0'] });
      expect(await code(await tgz('acme', 'superdb-2.0.0.tgz', basic(addon.id, addon.key)))).toEqual([
        401,
        'license_required',
      ]);
      expect((await tgz('acme', 'addon-1.0.0.tgz', basic(addon.id, addon.key))).status).toBe(200);
      // The purchase key does not help with the complementary chart either.
      expect(await verify(bought.key, { publisher: 'acme', chart: 'addon' })).toMatchObject({
        valid: false,
        reason: 'wrong_chart',
      });
    });

    it("refuses a key on another publisher's repository, even for a chart of the same name", async () => {
      const idx = await index('globex', basic(bought.id, bought.key));
      expect(await code(idx.res)).toEqual([401, 'repository_credentials_invalid']);
      expect(idx.res.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect(await code(await tgz('globex', 'superdb-2.0.0.tgz', basic(bought.id, bought.key)))).toEqual([
        401,
        'repository_credentials_invalid',
      ]);
      // Anonymous on globex: the paid chart is absent and its archive refused.
      expect(versionsIn((await index('globex')).body)).toEqual({});
      expect(await code(await tgz('globex', 'superdb-2.0.0.tgz'))).toEqual([401, 'license_required']);
      // A globex license does not open acme's superdb.
      const g = await buyLocally('globex', 'superdb');
      expect(await code((await index('acme', basic(g.id, g.key))).res)).toEqual([
        401,
        'repository_credentials_invalid',
      ]);
      expect(await code(await tgz('acme', 'superdb-2.0.0.tgz', basic(g.id, g.key)))).toEqual([
        401,
        'repository_credentials_invalid',
      ]);
      expect(versionsIn((await index('globex', basic(g.id, g.key))).body)).toEqual({
        superdb: ['2.0.0', '1.0.0'],
      });
    });

    it('verifies online against the publisher too: a same-named chart of another publisher is not the chart asked about', async () => {
      const g = await buyLocally('globex', 'superdb');
      // globex's key names a chart "superdb" just like acme's: the publisher decides.
      expect(await verify(g.key, { publisher: 'acme', chart: 'superdb' })).toMatchObject({
        valid: false,
        reason: 'wrong_publisher',
        license: { chart: 'superdb' },
      });
      expect(await verify(g.key, { publisher: 'acme', chart: 'superdb', version: '2.0.0' })).toMatchObject({
        valid: false,
        reason: 'wrong_publisher',
      });
      expect(await verify(g.key, { publisher: 'acme' })).toMatchObject({
        valid: false,
        reason: 'wrong_publisher',
      });
      expect(await verify(g.key, { publisher: 'globex', chart: 'superdb', version: '2.0.0' })).toMatchObject({
        valid: true,
        license: { id: g.id },
      });
      expect(
        await verify(bought.key, { publisher: 'globex', chart: 'superdb', version: '2.0.0' }),
      ).toMatchObject({ valid: false, reason: 'wrong_publisher' });
      expect(
        await verify(bought.key, { publisher: 'acme', chart: 'superdb', version: '2.0.0' }),
      ).toMatchObject({ valid: true });
      // A chart without its publisher is not a question the store answers; nor is a publisher that is no slug.
      for (const body of [
        { key: g.key, chart: 'superdb' },
        { key: g.key, chart: 'superdb', version: '2.0.0' },
        { key: g.key, chart: 'superdb', publisher: null },
        { key: g.key, chart: 'superdb', publisher: '' },
        { key: g.key, chart: 'superdb', publisher: 'ACME' },
        { key: g.key, chart: 'superdb', publisher: 7 },
        { key: g.key, publisher: 'a'.repeat(41) },
      ]) {
        expect([body, ...(await code(await post(`${store.url}/v1/licenses/verify`, body)))]).toEqual([
          body,
          400,
          'validation_failed',
        ]);
      }
    });
  });

  describe("complimentary licenses, revocation, and the publisher's lists", () => {
    it('grants a complimentary license whose versionRange the repository honours', async () => {
      const before = await licenseCount();
      const comp = await granted('acme', acme.accessToken, {
        chart: 'superdb',
        email: 'Friend@Example.com',
        versionRange: '>=1.0.0 <2.0.0-0',
      });
      expect(comp).toMatchObject({
        chart: 'superdb',
        publisher: 'acme',
        versionRange: '>=1.0.0 <2.0.0-0',
        orderId: null,
        buyerEmail: 'friend@example.com',
        status: 'active',
      });
      expect(await licenseCount()).toBe(before + 1);
      expect(parts(comp.key).payload).toMatchObject({
        sub: comp.id,
        pub: 'acme',
        chart: 'superdb',
        range: '>=1.0.0 <2.0.0-0',
        iss: PUBLIC_URL,
      });
      expect(versionsIn((await index('acme', basic(comp.id, comp.key))).body)).toEqual({
        superdb: ['1.5.0', '1.0.0'],
        tools: ['0.3.0'],
      });
      expect((await tgz('acme', 'superdb-1.5.0.tgz', basic(comp.id, comp.key))).status).toBe(200);
      expect(await code(await tgz('acme', 'superdb-2.0.0.tgz', basic(comp.id, comp.key)))).toEqual([
        401,
        'license_required',
      ]);
      expect(await verify(comp.key, { publisher: 'acme', chart: 'superdb', version: '2.0.0' })).toMatchObject(
        { valid: false, reason: 'version_not_covered' },
      );
      expect(await verify(comp.key, { publisher: 'acme', chart: 'superdb', version: '1.5.0' })).toMatchObject(
        { valid: true },
      );

      // No range: the listing's policy (major, anchored at the newest stable 2.1.0), like a purchase.
      const policy = await granted('acme', acme.accessToken, {
        chart: 'superdb',
        email: 'second@example.com',
      });
      expect(policy.versionRange).toBe('>=2.0.0 <3.0.0-0');
      // An API token with licenses:write can grant too.
      const writer = await createPublisher(store.url, 'writer', [
        'charts:read',
        'charts:write',
        'listings:write',
        'licenses:write',
      ]);
      expect(
        (await uploadChart(store.url, 'writer', writer.apiToken, await simpleChart('w', '1.0.0'))).status,
      ).toBe(201);
      const viaToken = await granted('writer', writer.apiToken, { chart: 'w', email: 'x@example.com' });
      expect((await tgz('writer', 'w-1.0.0.tgz', basic(viaToken.id, viaToken.key))).status).toBe(200);
    });

    it('refuses bad grants, issuing nothing, then grants the good one', async () => {
      const before = await licenseCount();
      const cases: Array<[string, string, Record<string, unknown>, number, string]> = [
        ['anonymous', '', { chart: 'superdb', email: 'a@example.com' }, 401, 'auth_required'],
        [
          'token without licenses:write',
          acme.apiToken,
          { chart: 'superdb', email: 'a@example.com' },
          403,
          'token_scope_missing',
        ],
        [
          "another publisher's owner",
          globex.accessToken,
          { chart: 'superdb', email: 'a@example.com' },
          403,
          'not_publisher_owner',
        ],
        [
          'unknown chart',
          acme.accessToken,
          { chart: 'nothing', email: 'a@example.com' },
          404,
          'chart_not_for_sale',
        ],
        [
          "another publisher's chart",
          acme.accessToken,
          { chart: 'w', email: 'a@example.com' },
          404,
          'chart_not_for_sale',
        ],
        ['bad email', acme.accessToken, { chart: 'superdb', email: 'nope' }, 400, 'validation_failed'],
        ['no email', acme.accessToken, { chart: 'superdb' }, 400, 'validation_failed'],
        [
          'range not semver',
          acme.accessToken,
          { chart: 'superdb', email: 'a@example.com', versionRange: '>>1' },
          400,
          'version_range_invalid',
        ],
        [
          'range with an empty alternative',
          acme.accessToken,
          { chart: 'superdb', email: 'a@example.com', versionRange: '1 || ' },
          400,
          'version_range_invalid',
        ],
        [
          'range of empty alternatives',
          acme.accessToken,
          { chart: 'superdb', email: 'a@example.com', versionRange: '||' },
          400,
          'version_range_invalid',
        ],
        [
          'range too long once normalised',
          acme.accessToken,
          {
            chart: 'superdb',
            email: 'a@example.com',
            versionRange: Array.from({ length: 30 }, (_, i) => `${i}.x`).join(' || '),
          },
          400,
          'version_range_invalid',
        ],
        [
          'range with shell characters',
          acme.accessToken,
          { chart: 'superdb', email: 'a@example.com', versionRange: '$(id)' },
          400,
          'validation_failed',
        ],
        [
          'empty range',
          acme.accessToken,
          { chart: 'superdb', email: 'a@example.com', versionRange: '' },
          400,
          'validation_failed',
        ],
        [
          'unknown field',
          acme.accessToken,
          { chart: 'superdb', email: 'a@example.com', orderId: randomUUID() },
          400,
          'validation_failed',
        ],
      ];
      for (const [what, token, body, status, errorCode] of cases) {
        const res = await post(`${store.url}/v1/publishers/acme/licenses`, body, token ? bearer(token) : {});
        expect([what, ...(await code(res))]).toEqual([what, status, errorCode]);
      }
      expect(await licenseCount()).toBe(before);
      const orders = await orderCount();
      await granted('acme', acme.accessToken, {
        chart: 'superdb',
        email: 'a@example.com',
        versionRange: '~1.5.0',
      });
      expect(await licenseCount()).toBe(before + 1);
      expect(await orderCount()).toBe(orders); // complimentary: no order
    });

    it("stores custom ranges in semver's normalised form, in the row and in the signed key, and honours them", async () => {
      const cases: Array<[string, string, string[]]> = [
        ['^1.2.0', '>=1.2.0 <2.0.0-0', ['1.5.0']],
        ['1.x', '>=1.0.0 <2.0.0-0', ['1.5.0', '1.0.0']],
        ['>=1 <1.5 || 2.1.x', '>=1.0.0 <1.5.0-0||>=2.1.0 <2.2.0-0', ['2.1.0', '1.0.0']],
        ['~2.0', '>=2.0.0 <2.1.0-0', ['2.0.0']],
        ['1.5.0 || =2.1.0', '1.5.0||2.1.0', ['2.1.0', '1.5.0']],
        ['x', '*', ['2.1.0', '2.0.0', '1.5.0', '1.0.0']],
        ['>=0.0.0', '*', ['2.1.0', '2.0.0', '1.5.0', '1.0.0']],
      ];
      for (const [input, stored, visible] of cases) {
        const g = await granted('acme', acme.accessToken, {
          chart: 'superdb',
          email: 'ranges@example.com',
          versionRange: input,
        });
        const row = (await db.query(`SELECT version_range FROM license WHERE id = $1`, [g.id]))[0];
        expect([input, g.versionRange, row.version_range, parts(g.key).payload.range]).toEqual([
          input,
          stored,
          stored,
          stored,
        ]);
        expect([input, versionsIn((await index('acme', basic(g.id, g.key))).body).superdb]).toEqual([
          input,
          visible,
        ]);
        for (const version of ['1.0.0', '1.5.0', '2.0.0', '2.1.0']) {
          const v = await verify(g.key, { publisher: 'acme', chart: 'superdb', version });
          expect([input, version, v.valid]).toEqual([input, version, visible.includes(version)]);
        }
      }
    });

    it('anchors major and minor policies on the newest stable version when the checkout started, not when it was paid', async () => {
      for (const [name, kind, first, second] of [
        ['anchordb', 'major', '>=1.0.0 <2.0.0-0', '>=2.0.0 <3.0.0-0'],
        ['anchorlite', 'minor', '>=1.4.0 <1.5.0-0', '>=2.0.0 <2.1.0-0'],
      ] as const) {
        for (const v of ['1.0.0', '1.4.0', '1.4.1-rc.1'])
          expect(
            (await uploadChart(store.url, 'acme', acme.apiToken, await simpleChart(name, v))).status,
          ).toBe(201);
        expect(
          (
            await putListing(store.url, 'acme', acme.apiToken, name, {
              price: { amount: 4900, currency: 'usd' },
              updatePolicy: { kind },
              published: true,
            })
          ).status,
        ).toBe(200);
        // The buyer starts a checkout on 1.x …
        const c = await startCheckout(store.url, {
          publisher: 'acme',
          chart: name,
          email: 'slow@example.com',
        });
        // … 2.0.0 is released before the payment completes …
        expect(
          (await uploadChart(store.url, 'acme', acme.apiToken, await simpleChart(name, '2.0.0'))).status,
        ).toBe(201);
        const pay = await fetch(`${store.url}/checkout/local/${c.sessionId}/pay`, {
          method: 'POST',
          redirect: 'manual',
        });
        expect(pay.status).toBe(303);
        const st = (await (await fetch(`${store.url}/v1/checkout/${c.sessionId}`)).json()) as {
          status: string;
          license: License & { versionRange: string };
        };
        // … and the license is for what the buyer was shown.
        expect([name, st.status, st.license.versionRange]).toEqual([name, 'paid', first]);
        expect(
          (await db.query(`SELECT newest_stable_version FROM "order" WHERE id = $1`, [c.orderId]))[0]
            .newest_stable_version,
        ).toBe('1.4.0');
        expect(versionsIn((await index('acme', basic(st.license.id, st.license.key))).body)[name]).toEqual(
          kind === 'major' ? ['1.4.1-rc.1', '1.4.0', '1.0.0'] : ['1.4.1-rc.1', '1.4.0'],
        );
        expect(
          await code(await tgz('acme', `${name}-2.0.0.tgz`, basic(st.license.id, st.license.key))),
        ).toEqual([401, 'license_required']);
        // A checkout started now is anchored on 2.0.0.
        const later = await buyLocally('acme', name, 'later@example.com');
        expect([
          name,
          (await db.query(`SELECT version_range FROM license WHERE id = $1`, [later.id]))[0].version_range,
        ]).toEqual([name, second]);
      }
    });

    it("revokes on the publisher's request: refused at once on this replica; other publishers cannot touch it", async () => {
      const lic = await granted('acme', acme.accessToken, {
        chart: 'superdb',
        email: 'revoke-me@example.com',
      });
      expect((await tgz('acme', 'superdb-2.0.0.tgz', basic(lic.id, lic.key))).status).toBe(200);
      const del = (slug: string, id: string, token: string) =>
        fetch(`${store.url}/v1/publishers/${slug}/licenses/${id}`, {
          method: 'DELETE',
          headers: bearer(token),
        });
      // Refusals first: nothing changes.
      expect(await code(await del('globex', lic.id, globex.accessToken))).toEqual([404, 'license_not_found']);
      expect(await code(await del('acme', lic.id, globex.accessToken))).toEqual([403, 'not_publisher_owner']);
      expect(await code(await del('acme', lic.id, acme.apiToken))).toEqual([403, 'token_scope_missing']);
      expect(await code(await del('acme', randomUUID(), acme.accessToken))).toEqual([
        404,
        'license_not_found',
      ]);
      expect((await del('acme', 'not-a-uuid', acme.accessToken)).status).toBe(400);
      expect((await verify(lic.key)).valid).toBe(true);

      const t0 = Date.now();
      expect((await del('acme', lic.id, acme.accessToken)).status).toBe(204);
      let res = await tgz('acme', 'superdb-2.0.0.tgz', basic(lic.id, lic.key));
      while (res.status === 200 && Date.now() - t0 < 5000) {
        await sleep(100);
        res = await tgz('acme', 'superdb-2.0.0.tgz', basic(lic.id, lic.key));
      }
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(await code(res)).toEqual([401, 'license_inactive']);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect(await code((await index('acme', basic(lic.id, lic.key))).res)).toEqual([
        401,
        'license_inactive',
      ]);
      expect(await verify(lic.key)).toMatchObject({
        valid: false,
        reason: 'revoked',
        license: { id: lic.id, status: 'revoked' },
      });
      // Revoking again is harmless; the other licenses still work.
      expect((await del('acme', lic.id, acme.accessToken)).status).toBe(204);
      expect((await tgz('acme', 'superdb-2.0.0.tgz', basic(bought.id, bought.key))).status).toBe(200);
    });

    it('enforces a revocation another replica commits as soon as its change notice arrives, not after the cache TTL', async () => {
      expect(store.config.licensing.statusCacheSeconds).toBe(30);
      const lic = await granted('acme', acme.accessToken, { chart: 'superdb', email: 'replica@example.com' });
      // Warm this replica's cache with the active state.
      expect((await tgz('acme', 'superdb-2.0.0.tgz', basic(lic.id, lic.key))).status).toBe(200);
      // What another replica's revoke does: the update and its notice, in one transaction.
      const t0 = Date.now();
      await db.transaction(async (m) => {
        await m.query(
          `UPDATE license SET revoked_at = now(), reason = 'revoked_by_publisher' WHERE id = $1`,
          [lic.id],
        );
        await m.query(`SELECT pg_notify('berth_changes', $1)`, [`licenses:${lic.id}`]);
      });
      let res = await tgz('acme', 'superdb-2.0.0.tgz', basic(lic.id, lic.key));
      while (res.status === 200 && Date.now() - t0 < 6000) {
        await sleep(10);
        res = await tgz('acme', 'superdb-2.0.0.tgz', basic(lic.id, lic.key));
      }
      const elapsed = Date.now() - t0;
      expect(await code(res)).toEqual([401, 'license_inactive']);
      expect(elapsed).toBeLessThan(1000);
    }, 10_000);

    it("lists the publisher's licenses and orders without any key or checkout secret, for the right principals only", async () => {
      const licenses = await fetch(`${store.url}/v1/publishers/acme/licenses`, {
        headers: bearer(acme.accessToken),
      });
      expect(licenses.status).toBe(200);
      const text = await licenses.text();
      expect(text).not.toContain(PREFIX);
      const list = (JSON.parse(text) as { licenses: Array<Record<string, unknown>> }).licenses;
      expect(list.length).toBeGreaterThanOrEqual(5);
      expect(list.every((l) => !('key' in l) && l.publisher === 'acme')).toBe(true);
      expect(list.find((l) => l.id === bought.id)).toMatchObject({
        chart: 'superdb',
        orderId: bought.orderId,
        buyerEmail: 'buyer@example.com',
        status: 'active',
        versionRange: '>=2.0.0 <3.0.0-0',
      });
      expect(list.some((l) => l.status === 'revoked' && l.reason === 'revoked_by_publisher')).toBe(true);

      const orders = await fetch(`${store.url}/v1/publishers/acme/orders`, {
        headers: bearer(acme.accessToken),
      });
      expect(orders.status).toBe(200);
      const ordersText = await orders.text();
      expect(ordersText).not.toContain(bought.sessionId);
      expect(ordersText).not.toContain(PREFIX);
      const orderList = (JSON.parse(ordersText) as { orders: Array<Record<string, unknown>> }).orders;
      expect(orderList.find((o) => o.id === bought.orderId)).toMatchObject({
        chart: 'superdb',
        buyerEmail: 'buyer@example.com',
        amount: 4900,
        currency: 'usd',
        provider: 'local',
        status: 'paid',
        refundedAmount: 0,
      });
      expect(orderList.every((o) => o.chart !== undefined)).toBe(true);
      expect(orderList.length).toBe(
        Number((await db.query(`SELECT count(*)::int AS n FROM "order" WHERE publisher_slug = 'acme'`))[0].n),
      );
      // globex's orders are not in acme's list.
      const globexOrders = (await db.query(
        `SELECT id FROM "order" WHERE publisher_slug = 'globex'`,
      )) as Array<{ id: string }>;
      expect(globexOrders.length).toBeGreaterThan(0);
      for (const { id } of globexOrders) expect(ordersText).not.toContain(id);

      // Scopes and ownership.
      expect(
        await code(
          await fetch(`${store.url}/v1/publishers/acme/licenses`, { headers: bearer(acme.apiToken) }),
        ),
      ).toEqual([403, 'token_scope_missing']);
      expect(
        await code(await fetch(`${store.url}/v1/publishers/acme/orders`, { headers: bearer(acme.apiToken) })),
      ).toEqual([403, 'token_scope_missing']);
      expect(
        await code(
          await fetch(`${store.url}/v1/publishers/acme/orders`, { headers: bearer(globex.accessToken) }),
        ),
      ).toEqual([403, 'not_publisher_owner']);
      expect(await code(await fetch(`${store.url}/v1/publishers/acme/orders`))).toEqual([
        401,
        'auth_required',
      ]);
      const reader = await fetch(`${store.url}/v1/publishers/acme/tokens`, {
        method: 'POST',
        headers: { ...bearer(acme.accessToken), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'reader', scopes: ['licenses:read', 'orders:read'] }),
      });
      const { token } = (await reader.json()) as { token: string };
      expect(
        (await fetch(`${store.url}/v1/publishers/acme/licenses`, { headers: bearer(token) })).status,
      ).toBe(200);
      expect((await fetch(`${store.url}/v1/publishers/acme/orders`, { headers: bearer(token) })).status).toBe(
        200,
      );
      // Read scopes do not grant.
      expect(await code(await grant('acme', token, { chart: 'superdb', email: 'r@example.com' }))).toEqual([
        403,
        'token_scope_missing',
      ]);
    });
  });
});

describe('the local pay page behind a path prefix, in zero- and two-decimal currencies', () => {
  const PREFIXED = 'https://shop.example.test/store';
  let store: InProcessStore;

  beforeAll(async () => {
    // The proxy in front maps https://shop.example.test/store/* to the store's /*.
    store = await startInProcess('postgres', { PUBLIC_URL: PREFIXED });
    const p = await createPublisher(store.url, 'acme');
    for (const name of ['yen', 'yenmore', 'dollars']) {
      expect(
        (await uploadChart(store.url, 'acme', p.apiToken, await simpleChart(name, '1.0.0'))).status,
      ).toBe(201);
    }
    const price = (amount: number, currency: string) => ({
      price: { amount, currency },
      updatePolicy: { kind: 'all' },
      published: true,
    });
    expect((await putListing(store.url, 'acme', p.apiToken, 'yen', price(500, 'jpy'))).status).toBe(200);
    expect((await putListing(store.url, 'acme', p.apiToken, 'yenmore', price(1234, 'JPY'))).status).toBe(200);
    expect((await putListing(store.url, 'acme', p.apiToken, 'dollars', price(4905, 'usd'))).status).toBe(200);
  }, 60_000);
  afterAll(async () => store?.close());

  it("posts the pay form under PUBLIC_URL's path and shows prices in the currency's own minor units", async () => {
    for (const [chart, shown, wrong] of [
      ['yen', '500 JPY', '5.00 JPY'],
      ['yenmore', '1234 JPY', '12.34 JPY'],
      ['dollars', '49.05 USD', '4905 USD'],
    ]) {
      const c = await startCheckout(store.url, { publisher: 'acme', chart, email: 'b@example.com' });
      expect(c.checkoutUrl).toBe(`${PREFIXED}/checkout/local/${c.sessionId}`);
      const page = await fetch(`${store.url}/checkout/local/${c.sessionId}`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect([
        chart,
        html.includes(`Price: <b>${shown}</b>`),
        html.includes(`Pay ${shown}`),
        html.includes(wrong),
      ]).toEqual([chart, true, true, false]);
      // The browser is at https://shop.example.test/store/checkout/local/…: the form must post under /store.
      expect(html).toContain(`<form method="post" action="/store/checkout/local/${c.sessionId}/pay">`);
      const pay = await fetch(`${store.url}/checkout/local/${c.sessionId}/pay`, {
        method: 'POST',
        redirect: 'manual',
      });
      expect(pay.status).toBe(303);
      expect(pay.headers.get('location')).toBe(`${PREFIXED}/checkout/success?session_id=${c.sessionId}`);
    }
  });
});
