import { dataSourceOptions, runMigrationsLocked } from '@berth/database';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from '../../apps/store/src/entities';
import {
  createPublisher,
  json,
  putListing,
  uploadChart,
  statusAndCode as code,
  bearer,
} from '../support/api';
import { simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';
import { createTestDatabase } from '../support/postgres';

/**
 * Credential lifecycle and identity (issue 11, findings 7, 13 and 15): changing the password, signing
 * out everywhere, API tokens' last use and revocation, closing an account with its publisher, one
 * account per mailbox whatever the spelling, refused slugs, and another publisher's API token answered
 * exactly like an unknown one.
 */

/** Refused credentials one credential may send per window in this suite (the limiter is per credential). */
const PER_CREDENTIAL = 5;

const send = (url: string, method: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('credential lifecycle on postgres', () => {
  let store: InProcessStore;
  let db: DataSource;

  const login = (email: string, password: string) =>
    send(`${store.url}/v1/sessions`, 'POST', { email, password });
  const accessToken = async (email: string, password: string) => {
    const res = await login(email, password);
    expect(res.status).toBe(200);
    return ((await res.json()) as { accessToken: string }).accessToken;
  };
  /** A route that needs the owner's live access token. */
  const listTokens = (slug: string, token: string) =>
    fetch(`${store.url}/v1/publishers/${slug}/tokens`, { headers: bearer(token) });
  const signUp = (email: string, slug: string, password = 'long enough password') =>
    send(`${store.url}/v1/accounts`, 'POST', { email, password, publisher: { slug, displayName: 'X' } });

  beforeAll(async () => {
    store = await startInProcess('postgres', { AUTH_FAILURES_PER_CREDENTIAL: String(PER_CREDENTIAL) });
    db = store.app.get(DataSource);
  }, 60_000);
  afterAll(async () => store?.close());

  describe('password change', () => {
    it('needs the current password, ends every session and keeps API tokens working', async () => {
      const p = await createPublisher(store.url);
      const otherDevice = await accessToken(p.email, p.password);
      const url = `${store.url}/v1/account/password`;

      expect(
        await code(await send(url, 'POST', { currentPassword: 'x', newPassword: 'new password 1' })),
      ).toEqual([401, 'auth_required']);
      expect(
        await code(
          await send(
            url,
            'POST',
            { currentPassword: p.password, newPassword: 'new password 1' },
            bearer(p.apiToken),
          ),
        ),
      ).toEqual([403, 'owner_required']);
      expect(
        await code(
          await send(
            url,
            'POST',
            { currentPassword: 'not the password', newPassword: 'new password 1' },
            bearer(p.accessToken),
          ),
        ),
      ).toEqual([403, 'password_incorrect']);
      expect(
        await code(
          await send(
            url,
            'POST',
            { currentPassword: p.password, newPassword: 'short' },
            bearer(p.accessToken),
          ),
        ),
      ).toEqual([400, 'validation_failed']);
      // Nothing changed so far.
      expect((await login(p.email, p.password)).status).toBe(200);

      const changed = await send(
        url,
        'POST',
        { currentPassword: p.password, newPassword: 'new password 1' },
        bearer(p.accessToken),
      );
      expect([changed.status, changed.status === 200 ? '' : await changed.text()]).toEqual([200, '']);
      const { accessToken: fresh } = (await changed.json()) as { accessToken: string };

      // Every earlier access token is dead at once, this device's and the other's.
      for (const old of [p.accessToken, otherDevice]) {
        expect(await code(await listTokens(p.slug, old))).toEqual([401, 'access_token_invalid']);
      }
      expect((await listTokens(p.slug, fresh)).status).toBe(200);
      expect(await code(await login(p.email, p.password))).toEqual([401, 'invalid_credentials']);
      expect((await login(p.email, 'new password 1')).status).toBe(200);
      // API tokens are separate credentials, listed and revoked one by one.
      expect((await fetch(`${store.url}/api/${p.slug}/charts`, { headers: bearer(p.apiToken) })).status).toBe(
        200,
      );
    });

    it('counts wrong current passwords with the login throttle of the e-mail', async () => {
      const p = await createPublisher(store.url);
      // Guesses spread over several sessions (logged in first: a good login clears the e-mail's count),
      // so the per-credential limiter is not what stops them.
      const sessions = [p.accessToken];
      for (let i = 0; i < 5; i++) sessions.push(await accessToken(p.email, p.password));
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await send(
          `${store.url}/v1/account/password`,
          'POST',
          { currentPassword: `guess ${i}`, newPassword: 'new password 1' },
          bearer(sessions[i]),
        );
        statuses.push(res.status);
      }
      expect(statuses).toEqual([403, 403, 403, 403, 403]);
      // Now even the right password waits.
      const locked = await send(
        `${store.url}/v1/account/password`,
        'POST',
        { currentPassword: p.password, newPassword: 'new password 1' },
        bearer(sessions[5]),
      );
      expect(await code(locked)).toEqual([429, 'login_throttled']);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('sign out everywhere', () => {
    it('kills every access token of the account at once, on this replica and on another', async () => {
      const p = await createPublisher(store.url);
      const second = await accessToken(p.email, p.password);
      // A second replica on the same database.
      const replica = await startInProcess('postgres', {
        DATABASE_URL: store.db!.url,
        ACCESS_TOKEN_SECRET: store.config.auth.accessTokenSecret,
        LICENSE_SIGNING_SECRET: store.config.licensing.signingSecret,
      });
      try {
        expect(
          (await fetch(`${replica.url}/v1/publishers/${p.slug}/tokens`, { headers: bearer(second) })).status,
        ).toBe(200);
        const out = await send(
          `${store.url}/v1/sessions/revoke-all`,
          'POST',
          undefined,
          bearer(p.accessToken),
        );
        expect(out.status).toBe(204);
        for (const base of [store.url, replica.url]) {
          for (const t of [p.accessToken, second]) {
            const res = await fetch(`${base}/v1/publishers/${p.slug}/tokens`, { headers: bearer(t) });
            expect(await code(res)).toEqual([401, 'access_token_invalid']);
          }
        }
        // A dead session cannot sign out again or change the password.
        expect(
          await code(await send(`${store.url}/v1/sessions/revoke-all`, 'POST', undefined, bearer(second))),
        ).toEqual([401, 'access_token_invalid']);
        // Logging in again starts a new session that works everywhere.
        const again = await accessToken(p.email, p.password);
        expect(
          (await fetch(`${replica.url}/v1/publishers/${p.slug}/tokens`, { headers: bearer(again) })).status,
        ).toBe(200);
      } finally {
        await replica.close();
      }
    }, 60_000);
  });

  describe('API tokens', () => {
    it("lists each token's last use (not a refused use for another publisher) and a revoked token stops at once", async () => {
      const p = await createPublisher(store.url);
      const other = await createPublisher(store.url);
      const view = async () => {
        const res = await listTokens(p.slug, p.accessToken);
        expect(res.status).toBe(200);
        return (
          (await res.json()) as Array<{ id: string; lastUsedAt: string | null; revokedAt: string | null }>
        )[0];
      };
      expect(await view()).toEqual(expect.objectContaining({ lastUsedAt: null, revokedAt: null }));

      // Presented to another publisher: refused, and not a use of the token.
      expect(
        (await fetch(`${store.url}/api/${other.slug}/charts`, { headers: bearer(p.apiToken) })).status,
      ).toBe(401);
      await sleep(300);
      expect((await view()).lastUsedAt).toBeNull();

      const before = Date.now();
      expect((await fetch(`${store.url}/api/${p.slug}/charts`, { headers: bearer(p.apiToken) })).status).toBe(
        200,
      );
      let used: string | null = null;
      for (let i = 0; i < 50 && !used; i++) {
        used = (await view()).lastUsedAt;
        if (!used) await sleep(100);
      }
      expect(used).not.toBeNull();
      expect(Date.parse(used!)).toBeGreaterThanOrEqual(before - 1000);

      const { id } = await view();
      expect(
        (
          await send(
            `${store.url}/v1/publishers/${p.slug}/tokens/${id}`,
            'DELETE',
            undefined,
            bearer(p.accessToken),
          )
        ).status,
      ).toBe(204);
      const refused = await fetch(`${store.url}/api/${p.slug}/charts`, { headers: bearer(p.apiToken) });
      expect([refused.status, ((await json(refused)) as { code: string }).code]).toEqual([
        401,
        'api_token_invalid',
      ]);
      expect((await view()).revokedAt).not.toBeNull();
    });
  });

  describe('another publisher’s API token', () => {
    it('gets the byte-identical 401 of an unknown token and counts as a refused credential', async () => {
      const acme = await createPublisher(store.url);
      const globex = await createPublisher(store.url, undefined, [
        'charts:read',
        'charts:write',
        'listings:write',
      ]);
      const unknown = `berth_pat_${'A'.repeat(43)}`;
      const answer = async (url: string, token: string, init: RequestInit = {}) => {
        const res = await fetch(url, {
          ...init,
          headers: { ...bearer(token), 'content-type': 'application/json' },
        });
        const headers = Object.fromEntries(
          [...res.headers].filter(([k]) => !['x-request-id', 'date', 'etag'].includes(k)),
        );
        return { status: res.status, headers, body: await res.text() };
      };
      const routes: Array<[string, RequestInit]> = [
        [`${store.url}/api/${acme.slug}/charts`, { method: 'GET' }],
        [`${store.url}/api/${acme.slug}/charts`, { method: 'POST', body: '{}' }],
        [
          `${store.url}/v1/publishers/${acme.slug}/charts/x/listing`,
          { method: 'PUT', body: JSON.stringify({ published: false }) },
        ],
        [`${store.url}/v1/publishers/${acme.slug}/orders`, { method: 'GET' }],
        [`${store.url}/api/${acme.slug}/charts/superdb`, { method: 'GET' }],
      ];
      expect(routes.length).toBe(PER_CREDENTIAL);
      for (const [url, init] of routes) {
        const foreign = await answer(url, globex.apiToken, init);
        const bad = await answer(url, unknown, init);
        expect([url, foreign]).toEqual([url, bad]);
        expect(foreign.status).toBe(401);
      }
      // Every one of those answers counted against the foreign token: it is now locked out, even at home,
      // until the window ends, like a guessed token would be.
      const home = await fetch(`${store.url}/api/${globex.slug}/charts`, {
        headers: bearer(globex.apiToken),
      });
      expect([home.status, ((await json(home)) as { code: string }).code]).toEqual([
        429,
        'too_many_auth_failures',
      ]);
    });
  });

  describe('closing an account', () => {
    it('is refused while sold licenses are in force, then deletes the account with its publisher', async () => {
      const seller = await createPublisher(store.url, undefined, [
        'charts:read',
        'charts:write',
        'listings:write',
        'licenses:read',
        'licenses:write',
      ]);
      for (const [name, version] of [
        ['paiddb', '1.0.0'],
        ['freedb', '1.0.0'],
      ])
        expect(
          (await uploadChart(store.url, seller.slug, seller.apiToken, await simpleChart(name, version)))
            .status,
        ).toBe(201);
      expect(
        (
          await putListing(store.url, seller.slug, seller.apiToken, 'paiddb', {
            price: { amount: 4900, currency: 'usd' },
            updatePolicy: { kind: 'all' },
            published: true,
          })
        ).status,
      ).toBe(200);
      expect((await putListing(store.url, seller.slug, seller.apiToken, 'freedb')).status).toBe(200);
      const sold = await buyLocally(seller.slug, 'paiddb');
      const comp = await send(
        `${store.url}/v1/publishers/${seller.slug}/licenses`,
        'POST',
        { chart: 'paiddb', email: 'friend@example.com' },
        bearer(seller.accessToken),
      );
      expect(comp.status).toBe(201);
      const gift = (await comp.json()) as { id: string; key: string };
      const close = (password: string, token = seller.accessToken) =>
        send(`${store.url}/v1/account`, 'DELETE', { password }, bearer(token));

      expect(
        await code(await send(`${store.url}/v1/account`, 'DELETE', { password: seller.password })),
      ).toEqual([401, 'auth_required']);
      expect(await code(await close('wrong password'))).toEqual([403, 'password_incorrect']);
      expect(await code(await close(seller.password))).toEqual([409, 'account_has_paid_licenses']);
      // Refused means nothing happened.
      expect((await fetch(`${store.url}/helm/${seller.slug}/index.yaml`)).status).toBe(200);
      expect((await listTokens(seller.slug, seller.accessToken)).status).toBe(200);

      // Once the sold license is revoked (a refund would do the same), the account can go.
      expect(
        (
          await send(
            `${store.url}/v1/publishers/${seller.slug}/licenses/${sold.id}`,
            'DELETE',
            undefined,
            bearer(seller.accessToken),
          )
        ).status,
      ).toBe(204);
      // A checkout a buyer may still pay holds the account open too: its payment needs a publisher.
      const open = await send(`${store.url}/v1/checkout`, 'POST', {
        publisher: seller.slug,
        chart: 'paiddb',
        email: 'late@example.com',
      });
      expect(open.status).toBe(201);
      const { orderId } = (await open.json()) as { orderId: string };
      expect(await code(await close(seller.password))).toEqual([409, 'account_has_open_checkouts']);
      await db.query(`UPDATE "order" SET expires_at = now() - interval '1 second' WHERE id = $1`, [orderId]);
      const publisherId = (await db.query(`SELECT id FROM publisher WHERE slug = $1`, [seller.slug]))[0]
        .id as string;
      expect(await code(await close(seller.password))).toEqual([204, undefined]);

      // Every credential is dead, the repository and the catalog entries are gone.
      expect(await code(await listTokens(seller.slug, seller.accessToken))).toEqual([
        401,
        'access_token_invalid',
      ]);
      const tokenUse = await fetch(`${store.url}/api/${seller.slug}/charts`, {
        headers: bearer(seller.apiToken),
      });
      expect([tokenUse.status, ((await json(tokenUse)) as { code: string }).code]).toEqual([
        401,
        'api_token_invalid',
      ]);
      expect(await code(await login(seller.email, seller.password))).toEqual([401, 'invalid_credentials']);
      expect((await fetch(`${store.url}/helm/${seller.slug}/index.yaml`)).status).toBe(404);
      expect((await fetch(`${store.url}/helm/${seller.slug}/charts/freedb-1.0.0.tgz`)).status).toBe(404);
      expect((await fetch(`${store.url}/v1/catalog/${seller.slug}/freedb`)).status).toBe(404);
      const catalog = (await (await fetch(`${store.url}/v1/catalog?publisher=${seller.slug}`)).json()) as {
        items: unknown[];
      };
      expect(catalog.items).toEqual([]);
      const search = (await (await fetch(`${store.url}/v1/catalog?q=freedb`)).json()) as { items: unknown[] };
      expect(search.items).toEqual([]);
      expect(
        (await db.query(`SELECT count(*)::int AS n FROM chart WHERE publisher_id = $1`, [publisherId]))[0].n,
      ).toBe(0);
      // The complimentary license is revoked with the publisher; the revoked sale stays revoked.
      const verdict = (await (
        await send(`${store.url}/v1/licenses/verify`, 'POST', { key: gift.key })
      ).json()) as { valid: boolean };
      expect(verdict.valid).toBe(false);
      expect(
        (
          await db.query(
            `SELECT count(*)::int AS n FROM license WHERE publisher_id = $1 AND revoked_at IS NULL`,
            [publisherId],
          )
        )[0].n,
      ).toBe(0);

      // The e-mail and the slug are free again, for a new account that sees none of the old charts.
      expect((await signUp(seller.email, seller.slug)).status).toBe(201);
      const index = (await (
        await fetch(`${store.url}/helm/${seller.slug}/index.yaml`, {
          headers: { 'accept-encoding': 'identity' },
        })
      ).json()) as { entries: Record<string, unknown> };
      expect(index.entries).toEqual({});
    });

    /** Buys through the local provider's pay page, as a browser would. */
    const buyLocally = async (publisher: string, chart: string) => {
      const start = await send(`${store.url}/v1/checkout`, 'POST', {
        publisher,
        chart,
        email: 'buyer@example.com',
      });
      expect(start.status).toBe(201);
      const c = (await start.json()) as { sessionId: string; checkoutUrl: string };
      const path = new URL(c.checkoutUrl).pathname;
      expect((await fetch(`${store.url}${path}/pay`, { method: 'POST', redirect: 'manual' })).status).toBe(
        303,
      );
      const st = (await (await fetch(`${store.url}/v1/checkout/${c.sessionId}`)).json()) as {
        status: string;
        license: { id: string; key: string };
      };
      expect(st.status).toBe('paid');
      return st.license;
    };
  });

  describe('e-mail identity', () => {
    it('keeps one account per mailbox whatever the spelling, and logs in with any of them', async () => {
      expect((await signUp('ops@mailbox.example', 'mailbox-a')).status).toBe(201);
      const variants: Array<[string, number, string]> = [
        ['OPS@MAILBOX.EXAMPLE', 409, 'email_taken'],
        ['Ops@Mailbox.Example', 409, 'email_taken'],
        ['ｏｐｓ@mailbox.example', 409, 'email_taken'], // fullwidth letters: NFKC folds them
        ['ＯＰＳ@mailbox.example', 409, 'email_taken'],
        ['"ops"@mailbox.example', 400, 'email_not_accepted'], // quoted local part: the same mailbox
        ['"ops@mailbox.example"@mailbox.example', 400, 'email_not_accepted'],
        ['оps@mailbox.example', 400, 'email_not_accepted'], // Cyrillic о, a confusable
        ['o\u0301ps@mailbox.example', 400, 'email_not_accepted'], // combining accent
        ['ops@mailbox.exampl\u0435', 400, 'email_not_accepted'], // Cyrillic е in the domain
      ];
      let n = 0;
      for (const [email, status, errorCode] of variants) {
        const res = await signUp(email, `mailbox-v${n++}`);
        expect([email, ...(await code(res))]).toEqual([email, status, errorCode]);
      }
      expect(
        (await db.query(`SELECT count(*)::int AS n FROM account WHERE email ILIKE '%mailbox.example%'`))[0].n,
      ).toBe(1);
      for (const email of ['OPS@mailbox.example', 'ｏｐｓ@ｍａｉｌｂｏｘ.example']) {
        expect([email, (await login(email, 'long enough password')).status]).toEqual([email, 200]);
      }
      // Punycode domains are plain ASCII and accepted.
      expect((await signUp('ops@xn--bcher-kva.example', 'mailbox-idn')).status).toBe(201);
    });
  });

  describe('publisher names', () => {
    it('refuses punycode and double-dash slugs and the widened reserved list', async () => {
      const refused = [
        'xn--abc',
        'xn--80ak6aa92e',
        'a--b',
        'ab--',
        'stripe',
        'webhooks',
        'openapi',
        'swagger',
        'tokens',
        'null',
        'undefined',
        'constructor',
        'prototype',
      ];
      let n = 0;
      for (const slug of refused) {
        const res = await signUp(`slug${n++}@names.example`, slug);
        const got = await code(res);
        // 'ab--' already fails the pattern (no trailing dash); the rest pass it and are reserved.
        expect([slug, ...got]).toEqual([
          slug,
          400,
          slug === 'ab--' ? 'validation_failed' : 'publisher_slug_reserved',
        ]);
      }
      expect(
        (await db.query(`SELECT count(*)::int AS n FROM account WHERE email LIKE '%@names.example'`))[0].n,
      ).toBe(0);
      expect((await signUp('fine@names.example', 'a-b-c')).status).toBe(201);
    });
  });
});

describe('e-mails stored before NFKC normalisation', () => {
  it('are rewritten to their folded form by the migration, unless two accounts fold to one', async () => {
    const db = await createTestDatabase();
    const at = MIGRATIONS.findIndex((M) => M.name.startsWith('AccountSessionEpoch'));
    const source = (migrations: typeof MIGRATIONS) =>
      new DataSource(dataSourceOptions(db.url, 1, { entities: ENTITIES, migrations }));
    try {
      const before = await source(MIGRATIONS.slice(0, at)).initialize();
      await runMigrationsLocked(before);
      for (const email of [
        'ｏｐｓ@legacy.example',
        'dup@legacy.example',
        'ｄｕｐ@legacy.example',
        'ＡＢ@x.example',
        'ａｂ@x.example',
      ])
        await before.query(`INSERT INTO account (email, password_hash) VALUES ($1, 'x')`, [email]);
      await before.destroy();
      const after = await source(MIGRATIONS).initialize();
      await runMigrationsLocked(after);
      const rows = (await after.query(`SELECT email, session_epoch FROM account ORDER BY email`)) as Array<{
        email: string;
        session_epoch: number;
      }>;
      await after.destroy();
      expect(rows.map((r) => r.email).sort()).toEqual(
        [
          'ops@legacy.example',
          'dup@legacy.example',
          'ｄｕｐ@legacy.example',
          'ＡＢ@x.example',
          'ａｂ@x.example',
        ].sort(),
      );
      expect(rows.every((r) => r.session_epoch === 0)).toBe(true);
    } finally {
      await db.drop();
    }
  });

  it('folds e-mails and ends sessions on the embedded database too', async () => {
    const embedded = await startInProcess('embedded');
    try {
      expect((await signUpAt(embedded.url, 'ＥＭＢ@embedded.example', 'emb')).status).toBe(201);
      expect((await signUpAt(embedded.url, 'emb@embedded.example', 'emb2')).status).toBe(409);
      const session = await send(`${embedded.url}/v1/sessions`, 'POST', {
        email: 'emb@embedded.example',
        password: 'long enough password',
      });
      const { accessToken } = (await session.json()) as { accessToken: string };
      expect(
        (await send(`${embedded.url}/v1/sessions/revoke-all`, 'POST', undefined, bearer(accessToken))).status,
      ).toBe(204);
      expect(
        (await fetch(`${embedded.url}/v1/publishers/emb/tokens`, { headers: bearer(accessToken) })).status,
      ).toBe(401);
    } finally {
      await embedded.close();
    }
  }, 120_000);
});

const signUpAt = (base: string, email: string, slug: string) =>
  send(`${base}/v1/accounts`, 'POST', {
    email,
    password: 'long enough password',
    publisher: { slug, displayName: 'X' },
  });
