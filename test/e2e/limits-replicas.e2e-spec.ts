import { randomBytes } from 'node:crypto';
import { createPublisher, Publisher } from '../support/api';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { startStore, StoreProcess } from '../support/store-process';

jest.setTimeout(180_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two store processes on one Postgres database, as behind a load balancer: the request limits are counted
 * in the database, so a limit reached half through each replica holds at the configured total, and a
 * lock one replica decides reaches the other over LISTEN/NOTIFY (the documented bound: 1 s).
 */
describe('request limits across replicas', () => {
  let db: TestDatabase;
  let a: StoreProcess;
  let b: StoreProcess;
  let pub: Publisher;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url,
      LICENSE_SIGNING_SECRET: 'limits-replicas-signing-secret-0123456789abcdef',
      ACCESS_TOKEN_SECRET: 'limits-replicas-access-token-secret-0123456789ab',
      PUBLIC_URL: 'http://store.test',
      // X-Forwarded-For names the client (the test plays several clients from one address).
      TRUST_PROXY: 'loopback',
      AUTH_FAILURES_PER_CLIENT: '1000',
      AUTH_FAILURES_PER_CREDENTIAL: '10',
      SIGNUPS_PER_CLIENT: '4',
    };
    a = await startStore(env);
    b = await startStore(env);
    pub = await createPublisher(a.url, 'acme');
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop();
  });

  const send = (
    s: StoreProcess,
    method: string,
    path: string,
    client: string,
    body?: unknown,
    auth?: string,
  ) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        'x-forwarded-for': client,
        ...(auth ? { authorization: auth } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('locks a credential guessed 5 times through each replica at the total of 10, on both', async () => {
    const wrong = `Bearer berth_pat_${randomBytes(16).toString('hex')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      // A different client each time: only the credential's own limit is in play.
      statuses.push(
        (await send(i < 5 ? a : b, 'GET', '/api/acme/charts', `198.51.100.${i + 1}`, undefined, wrong))
          .status,
      );
    }
    expect(statuses).toEqual(Array(10).fill(401));
    await sleep(1000);
    for (const s of [a, b]) {
      const res = await send(s, 'GET', '/api/acme/charts', '198.51.100.99', undefined, wrong);
      expect(res.status).toBe(429);
      expect(((await res.json()) as { code: string }).code).toBe('too_many_auth_failures');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The publisher's real token is another credential: still served on both.
    for (const s of [a, b])
      expect(
        (await send(s, 'GET', '/api/acme/charts', '198.51.100.99', undefined, `Bearer ${pub.apiToken}`))
          .status,
      ).toBe(200);
  });

  it("holds a (client, e-mail) login lock reached through both replicas, and leaves the owner's clean client alone", async () => {
    const guess = (s: StoreProcess, client: string, password = 'wrong password') =>
      send(s, 'POST', '/v1/sessions', client, { email: pub.email, password });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await guess(i < 3 ? a : b, '203.0.113.5')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    for (const s of [a, b]) {
      const res = await guess(s, '203.0.113.5', pub.password);
      expect(res.status).toBe(429);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('login_throttled');
    }
    expect((await guess(b, '192.0.2.77', pub.password)).status).toBe(200);
  });

  it('holds the sign-up limit at the total across replicas', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const slug = `r${i}${randomBytes(3).toString('hex')}`;
      const res = await send(i % 2 ? b : a, 'POST', '/v1/accounts', '198.51.100.200', {
        email: `${slug}@example.test`,
        password: 'correct horse battery',
        publisher: { slug, displayName: slug },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 429]);
  });
});
