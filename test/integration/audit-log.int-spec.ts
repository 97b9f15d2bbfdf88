import {
  bearer,
  createPublisher,
  postJson,
  Publisher,
  putListing,
  statusAndCode,
  uploadChart,
} from '../support/api';
import { provFor, simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';

interface AuditEvent {
  id: string;
  at: string;
  action: string;
  subject: string;
  actor: { kind: 'owner' | 'api_token'; id: string };
  clientAddress: string | null;
  userAgent: string | null;
}

describe("a publisher's audit log", () => {
  let store: InProcessStore;
  let acme: Publisher;
  let other: Publisher;

  const login = async (p: Publisher, password = p.password) =>
    postJson(`${store.url}/v1/sessions`, { email: p.email, password }, { 'user-agent': 'audit-test/1.0' });
  const ownerToken = async (p: Publisher) =>
    ((await (await login(p)).json()) as { accessToken: string }).accessToken;
  const readLog = async (token: string, query = '', slug = 'acme') =>
    fetch(`${store.url}/v1/publishers/${slug}/audit-log${query}`, { headers: bearer(token) });
  const allEvents = async (token: string, query = ''): Promise<AuditEvent[]> => {
    const out: AuditEvent[] = [];
    let cursor = '';
    do {
      const res = await readLog(token, `?limit=3${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { events: AuditEvent[]; nextCursor: string | null };
      out.push(...page.events);
      cursor = page.nextCursor ?? '';
    } while (cursor);
    return out;
  };

  beforeAll(async () => {
    store = await startInProcess('postgres');
    // Sign-up, a login and the 'ci' token: the first two events of each.
    acme = await createPublisher(store.url, 'acme', ['charts:write', 'listings:write', 'licenses:write']);
    other = await createPublisher(store.url, 'other', ['charts:write', 'listings:write']);
  }, 60_000);
  afterAll(() => store?.close());

  it('records who did what to what, from where, for each action that succeeded, and nothing refused', async () => {
    const v1 = await simpleChart('superdb', '1.0.0');
    expect((await uploadChart(store.url, 'acme', acme.apiToken, v1)).status).toBe(201);
    expect((await uploadChart(store.url, 'acme', acme.apiToken, v1)).status).toBe(409); // refused: not an action
    const prov = await fetch(`${store.url}/api/acme/prov`, {
      method: 'POST',
      headers: bearer(acme.apiToken),
      body: provFor('superdb', '1.0.0', v1),
    });
    expect(prov.status).toBe(201);
    expect(
      (await uploadChart(store.url, 'acme', acme.apiToken, await simpleChart('superdb', '1.1.0'))).status,
    ).toBe(201);
    const yank = await fetch(`${store.url}/api/acme/charts/superdb/1.1.0`, {
      method: 'DELETE',
      headers: { ...bearer(acme.apiToken), 'user-agent': 'helm-yanker/2' },
    });
    expect(yank.status).toBe(200);
    const listing = {
      price: { amount: 4900, currency: 'usd' },
      updatePolicy: { kind: 'all' },
      published: true,
    };
    expect((await putListing(store.url, 'acme', acme.apiToken, 'superdb', listing)).status).toBe(200);
    const granted = await postJson(
      `${store.url}/v1/publishers/acme/licenses`,
      { chart: 'superdb', email: 'friend@mail.example' },
      bearer(acme.apiToken),
    );
    expect(granted.status).toBe(201);
    const license = (await granted.json()) as { id: string };
    const revoked = await fetch(`${store.url}/v1/publishers/acme/licenses/${license.id}`, {
      method: 'DELETE',
      headers: bearer(acme.apiToken),
    });
    expect(revoked.status).toBe(204);
    // The owner: profile, a token made and revoked, a wrong password (refused), signing out everywhere.
    const access = await ownerToken(acme);
    const profile = await fetch(`${store.url}/v1/publishers/acme/profile`, {
      method: 'PATCH',
      headers: { ...bearer(access), 'content-type': 'application/json' },
      body: JSON.stringify({ supportEmail: 'help@acme.example' }),
    });
    expect(profile.status).toBe(200);
    const made = await postJson(
      `${store.url}/v1/publishers/acme/tokens`,
      { name: 'temp', scopes: ['charts:read'] },
      bearer(access),
    );
    const temp = (await made.json()) as { id: string };
    expect(
      (
        await fetch(`${store.url}/v1/publishers/acme/tokens/${temp.id}`, {
          method: 'DELETE',
          headers: bearer(access),
        })
      ).status,
    ).toBe(204);
    expect((await login(acme, 'not the password')).status).toBe(401);
    expect(
      (await fetch(`${store.url}/v1/sessions/revoke-all`, { method: 'POST', headers: bearer(access) }))
        .status,
    ).toBe(204);

    const fresh = await ownerToken(acme);
    const events = await allEvents(fresh);
    const tokens = (await (
      await fetch(`${store.url}/v1/publishers/acme/tokens`, { headers: bearer(fresh) })
    ).json()) as Array<{
      id: string;
      name: string;
    }>;
    const ci = tokens.find((t) => t.name === 'ci')!.id;
    const byToken = { kind: 'api_token', id: ci };
    // Newest first; paged three at a time and joined back.
    expect(
      events.map((e) => [e.action, e.subject, e.actor.kind === 'api_token' ? e.actor.id : 'owner']),
    ).toEqual([
      ['signed_in', 'acme@example.test', 'owner'],
      ['signed_out_everywhere', 'account', 'owner'],
      ['api_token_revoked', temp.id, 'owner'],
      ['api_token_created', `${temp.id} (temp: charts:read)`, 'owner'],
      ['profile_changed', 'supportEmail', 'owner'],
      ['signed_in', 'acme@example.test', 'owner'],
      ['license_revoked', license.id, ci],
      ['license_granted', `${license.id} (superdb * for friend@mail.example)`, ci],
      ['listing_changed', 'superdb', ci],
      ['chart_yanked', 'superdb@1.1.0', ci],
      ['chart_uploaded', 'superdb@1.1.0', ci],
      ['provenance_uploaded', 'superdb@1.0.0', ci],
      ['chart_uploaded', 'superdb@1.0.0', ci],
      [
        'api_token_created',
        expect.stringMatching(/^[0-9a-f-]{36} \(ci: charts:write licenses:write listings:write\)$/),
        'owner',
      ],
      ['signed_in', 'acme@example.test', 'owner'],
    ]);
    expect(new Set(events.map((e) => e.clientAddress))).toEqual(
      new Set([expect.stringMatching(/127\.0\.0\.1$/)]),
    );
    expect(events.find((e) => e.action === 'chart_yanked')).toMatchObject({
      actor: byToken,
      userAgent: 'helm-yanker/2',
    });
    expect(events[0].userAgent).toBe('audit-test/1.0');
    const owners = new Set(events.filter((e) => e.actor.kind === 'owner').map((e) => e.actor.id));
    expect(owners.size).toBe(1);

    const uploads = await allEvents(fresh, '&action=chart_uploaded');
    expect(uploads.map((e) => e.subject)).toEqual(['superdb@1.1.0', 'superdb@1.0.0']);
  });

  it('shows each log to its owner only', async () => {
    const mine = await ownerToken(acme);
    const theirs = await ownerToken(other);
    expect(await statusAndCode(await readLog(acme.apiToken))).toEqual([403, 'owner_required']);
    expect(await statusAndCode(await readLog(theirs))).toEqual([403, 'not_publisher_owner']);
    expect(await statusAndCode(await readLog(mine, '?action=bogus'))).toEqual([400, 'validation_failed']);
    expect(await statusAndCode(await readLog(mine, '?cursor=forged'))).toEqual([400, 'cursor_invalid']);
    const otherLog = (await (await readLog(theirs, '', 'other')).json()) as { events: AuditEvent[] };
    expect(otherLog.events.map((e) => e.action)).toEqual(['signed_in', 'api_token_created', 'signed_in']);
    expect(JSON.stringify(otherLog)).not.toContain('superdb');
  });
});
