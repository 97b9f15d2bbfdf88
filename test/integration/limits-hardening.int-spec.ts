import { randomBytes } from 'node:crypto';
import { PasswordHasher } from '@berth/accounts';
import { createPublisher } from '../support/api';
import { InProcessStore, startInProcess } from '../support/in-process';
import { createTestDatabase, TestDatabase } from '../support/postgres';

jest.setTimeout(120_000);

/** A request from `client` (TRUST_PROXY=loopback: X-Forwarded-For names the client). */
function send(
  store: InProcessStore,
  method: string,
  path: string,
  client: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${store.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': client, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function codeOf(res: Response): Promise<string | undefined> {
  // /v1: {"error":{"code"}}; /api (ChartMuseum's shape): {"error": "…", "code"}.
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string }; code?: string };
  return body.code ?? body.error?.code;
}

/** The store's own count of argon2 work (also on /metrics as berth_password_hashes_total). */
const hashes = (store: InProcessStore) => ({ ...store.app.get(PasswordHasher).stats });

const signup = (email: string, slug: string) => ({
  email,
  password: 'correct horse battery',
  publisher: { slug, displayName: slug },
});

describe('request limits (issue 11)', () => {
  let store: InProcessStore;

  beforeAll(async () => {
    store = await startInProcess('postgres', {
      TRUST_PROXY: 'loopback',
      AUTH_FAILURES_PER_CLIENT: '30',
      AUTH_FAILURES_PER_CREDENTIAL: '10',
      SIGNUPS_PER_CLIENT: '3',
      CHECKOUTS_PER_CLIENT: '5',
      PASSWORD_HASH_QUEUE: '1000',
    });
  });
  afterAll(async () => store?.close());

  it('checks at most the per-client limit of 120 parallel logins over 119 unknown e-mails and one real one', async () => {
    const owner = await createPublisher(store.url, 'spray-owner');
    const client = '198.51.100.20';
    const verifiedBefore = hashes(store).verified;
    let firstRefused!: () => void;
    const refused = new Promise<void>((resolve) => (firstRefused = resolve));
    const unknown = Array.from({ length: 119 }, (_, i) =>
      send(store, 'POST', '/v1/sessions', client, {
        email: `nobody-${i}@example.test`,
        password: owner.password,
      }).then((res) => (res.status === 429 && firstRefused(), res)),
    );
    // The real e-mail goes out once the client is over its limit (an ordering, not a timing). The old code
    // never refuses before 30 failures have come back, so the real one there runs alongside the others.
    await Promise.race([refused, Promise.all(unknown)]);
    const real = await send(store, 'POST', '/v1/sessions', client, {
      email: owner.email,
      password: owner.password,
    });
    const statuses = [...(await Promise.all(unknown)).map((r) => r.status), real.status];
    const checked = statuses.filter((s) => s === 401 || s === 200).length;
    expect(checked).toBeLessThanOrEqual(30);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(90);
    expect(real.status).toBe(429);
    expect(await codeOf(real)).toBe('too_many_auth_failures');
    expect(Number(real.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(hashes(store).verified - verifiedBefore).toBeLessThanOrEqual(30);
    // The account itself still logs in from elsewhere.
    const elsewhere = await send(store, 'POST', '/v1/sessions', '198.51.100.21', {
      email: owner.email,
      password: owner.password,
    });
    expect(elsewhere.status).toBe(200);
  });

  it("lets the owner log in from a clean client after failures from elsewhere, and hard-locks only the guessers' (client, e-mail)", async () => {
    const owner = await createPublisher(store.url, 'lockout-owner');
    const guess = (client: string, password = 'not-the-password') =>
      send(store, 'POST', '/v1/sessions', client, { email: owner.email, password });
    const a: number[] = [];
    for (let i = 0; i < 7; i++) a.push((await guess('203.0.113.1')).status);
    expect(a).toEqual([401, 401, 401, 401, 401, 429, 429]);
    // The guesser is locked out of this e-mail even with the right password.
    const lockedRight = await guess('203.0.113.1', owner.password);
    expect([lockedRight.status, await codeOf(lockedRight)]).toEqual([429, 'login_throttled']);
    // Past the e-mail's limit a second address gets one try, then is refused too.
    expect((await guess('203.0.113.2')).status).toBe(401);
    expect((await guess('203.0.113.2')).status).toBe(429);
    // The owner, from an address that has not failed, still gets in (to revoke a leaked token, say).
    const owners = await guess('192.0.2.50', owner.password);
    expect(owners.status).toBe(200);
  });

  it('limits sign-ups per client and refuses a taken e-mail without hashing its password', async () => {
    const client = '198.51.100.30';
    const first = await send(store, 'POST', '/v1/accounts', client, signup('taken@example.test', 'taken'));
    expect(first.status).toBe(201);
    const hashedBefore = hashes(store).hashed;
    expect(hashedBefore).toBeGreaterThan(0);
    const again = await send(store, 'POST', '/v1/accounts', client, signup('TAKEN@example.test', 'taken2'));
    expect([again.status, await codeOf(again)]).toEqual([409, 'email_taken']);
    const slug = await send(store, 'POST', '/v1/accounts', client, signup('other@example.test', 'taken'));
    expect([slug.status, await codeOf(slug)]).toEqual([409, 'publisher_slug_taken']);
    expect(hashes(store).hashed).toBe(hashedBefore);
    // Three attempts were this client's limit, whatever their outcome.
    const over = await send(store, 'POST', '/v1/accounts', client, signup('fresh@example.test', 'fresh'));
    expect([over.status, await codeOf(over)]).toEqual([429, 'too_many_signups']);
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    // Another client is not affected.
    const other = await send(
      store,
      'POST',
      '/v1/accounts',
      '198.51.100.31',
      signup('fresh@example.test', 'fresh'),
    );
    expect(other.status).toBe(201);
  });

  it('limits checkouts per client with 429 too_many_checkouts and Retry-After', async () => {
    const start = (client: string) =>
      send(store, 'POST', '/v1/checkout', client, {
        publisher: 'nobody',
        chart: 'nothing',
        email: 'buyer@example.test',
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await start('198.51.100.40')).status);
    expect(statuses).toEqual([404, 404, 404, 404, 404]);
    const over = await start('198.51.100.40');
    expect([over.status, await codeOf(over)]).toEqual([429, 'too_many_checkouts']);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await start('198.51.100.41')).status).toBe(404);
  });

  it('counts IPv6 clients by /64, so rotating addresses inside one /64 does not reset the limit', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 31; i++) {
      const res = await send(
        store,
        'GET',
        '/api/nobody/charts',
        `2001:db8:aa:bb::${i.toString(16)}`,
        undefined,
        {
          authorization: `Bearer berth_pat_guess_${randomBytes(8).toString('hex')}`,
        },
      );
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses[30]).toBe(429);
    // Another /64 is another client.
    const neighbour = await send(store, 'GET', '/api/nobody/charts', '2001:db8:aa:bc::1', undefined, {
      authorization: 'Bearer berth_pat_guess_neighbour',
    });
    expect(neighbour.status).toBe(401);
  });
});

describe('argon2 work is bounded', () => {
  let store: InProcessStore;

  beforeAll(async () => {
    store = await startInProcess('postgres', {
      TRUST_PROXY: 'loopback',
      PASSWORD_HASH_CONCURRENCY: '1',
      PASSWORD_HASH_QUEUE: '2',
    });
  });
  afterAll(async () => store?.close());

  it('runs at most PASSWORD_HASH_CONCURRENCY at once and refuses past the queue with 503 and Retry-After', async () => {
    const burst = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        send(store, 'POST', '/v1/sessions', `198.51.100.${100 + i}`, {
          email: `someone-${i}@example.test`,
          password: 'whatever it is',
        }),
      ),
    );
    const busy = burst.filter((r) => r.status === 503);
    expect(burst.every((r) => r.status === 401 || r.status === 503)).toBe(true);
    expect(busy.length).toBeGreaterThan(0);
    expect(await codeOf(busy[0])).toBe('password_checks_busy');
    expect(Number(busy[0].headers.get('retry-after'))).toBeGreaterThan(0);
    expect(store.app.get(PasswordHasher).stats.peakRunning).toBe(1);
    expect(hashes(store).refused).toBe(busy.length);
    // A refused check is not a failed guess: the same client may try again at once.
    const retry = await send(store, 'POST', '/v1/sessions', '198.51.100.100', {
      email: 'someone-0@example.test',
      password: 'whatever it is',
    });
    expect(retry.status).toBe(401);
  });
});

describe('limits shared by two replicas on one database', () => {
  let db: TestDatabase;
  let a: InProcessStore;
  let b: InProcessStore;

  beforeAll(async () => {
    db = await createTestDatabase('limits');
    const env = {
      DATABASE_URL: db.url,
      // Replicas share their secrets; the rate-limit keys are derived from this one.
      ACCESS_TOKEN_SECRET: 'limits-suite-access-token-secret-0123456789abcdef',
      LICENSE_SIGNING_SECRET: 'limits-suite-license-signing-secret-0123456789abc',
      TRUST_PROXY: 'loopback',
      AUTH_FAILURES_PER_CLIENT: '6',
      SIGNUPS_PER_CLIENT: '4',
    };
    a = await startInProcess('embedded', env);
    b = await startInProcess('embedded', env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('holds a client limit reached half on each replica at the configured total, and both replicas enforce it', async () => {
    const owner = await createPublisher(a.url, 'replica-owner');
    const client = '198.51.100.60';
    const guess = (store: InProcessStore, i: number) =>
      send(store, 'GET', `/api/${owner.slug}/charts`, client, undefined, {
        authorization: `Bearer berth_pat_wrong_${i}`,
      });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await guess(a, i)).status);
    for (let i = 3; i < 6; i++) statuses.push((await guess(b, i)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    // The sixth failure (on B) reached the limit; A hears of it through the change feed, so even a valid
    // token from that client is refused there (polled for at most a second).
    const valid = (store: InProcessStore) =>
      send(store, 'GET', `/api/${owner.slug}/charts`, client, undefined, {
        authorization: `Bearer ${owner.apiToken}`,
      });
    let onA = await valid(a);
    for (let waited = 0; onA.status !== 429 && waited < 1000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      onA = await valid(a);
    }
    expect([onA.status, await codeOf(onA)]).toEqual([429, 'too_many_auth_failures']);
    expect((await valid(b)).status).toBe(429);
    expect((await guess(a, 99)).status).toBe(429);
    // Another client is served on both.
    for (const store of [a, b])
      expect(
        (
          await send(store, 'GET', `/api/${owner.slug}/charts`, '198.51.100.61', undefined, {
            authorization: `Bearer ${owner.apiToken}`,
          })
        ).status,
      ).toBe(200);
  });

  it('holds the sign-up limit across replicas', async () => {
    const client = '198.51.100.70';
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const store = i % 2 ? b : a;
      statuses.push(
        (await send(store, 'POST', '/v1/accounts', client, signup(`r${i}@example.test`, `r${i}`))).status,
      );
    }
    expect(statuses).toEqual([201, 201, 201, 201, 429]);
  });
});

describe('the same limits on the embedded database (npm start)', () => {
  let store: InProcessStore;

  beforeAll(async () => {
    store = await startInProcess('embedded', {
      TRUST_PROXY: 'loopback',
      SIGNUPS_PER_CLIENT: '2',
      AUTH_FAILURES_PER_CREDENTIAL: '3',
    });
  });
  afterAll(async () => store?.close());

  it('counts sign-ups, logins and refused credentials in PGlite too', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (await send(store, 'POST', '/v1/accounts', '198.51.100.80', signup(`e${i}@example.test`, `e${i}`)))
          .status,
      );
    expect(statuses).toEqual([201, 201, 429]);
    const logins: number[] = [];
    for (let i = 0; i < 7; i++)
      logins.push(
        (
          await send(store, 'POST', '/v1/sessions', '198.51.100.81', {
            email: 'e0@example.test',
            password: 'nope',
          })
        ).status,
      );
    expect(logins).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const wrong = `Bearer berth_pat_${randomBytes(8).toString('hex')}`;
    const guesses: number[] = [];
    for (let i = 0; i < 4; i++)
      guesses.push(
        (
          await send(store, 'GET', '/api/e0/charts', `198.51.100.${90 + i}`, undefined, {
            authorization: wrong,
          })
        ).status,
      );
    expect(guesses).toEqual([401, 401, 401, 429]);
  });
});
