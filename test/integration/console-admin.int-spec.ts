import { createHash, randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { DownloadCounter } from '@berth/analytics';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';
import { DataSource } from 'typeorm';
import { bearer, createPublisher, Publisher, publishChart, statusAndCode } from '../support/api';
import { simpleChart } from '../support/charts';
import { consoleForm, consoleGet, consoleSignIn, storeOrigin } from '../support/console';
import { InProcessStore, startInProcess } from '../support/in-process';

/** A real 1×1 PNG (signature, IHDR, IDAT, IEND). */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, 255, 0, 0, 255]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const HOSTILE = `<script>alert(1)</script>"'&x`;
const ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;x';

describe('the console: API tokens, analytics, audit log, profile', () => {
  let store: InProcessStore;
  let acme: Publisher;
  let cookie: string;
  const today = new Date().toISOString().slice(0, 10);

  /** A multipart form post from the console's own page (fields and files). */
  const consoleMultipart = (
    path: string,
    fields: Record<string, string>,
    files: Record<string, { bytes: Buffer; name: string; type?: string }> = {},
  ) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    for (const [k, f] of Object.entries(files))
      form.append(k, new Blob([f.bytes], { type: f.type ?? 'application/octet-stream' }), f.name);
    return fetch(`${store.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, accept: 'text/html', origin: storeOrigin(store) },
      body: form,
    });
  };
  const page = async (path: string) => {
    const res = await consoleGet(store, path, cookie);
    return { status: res.status, html: await res.text(), res };
  };
  const profile = () =>
    fetch(`${store.url}/v1/publishers/acme/profile`, { headers: bearer(acme.accessToken) }).then(
      (r) => r.json() as Promise<{ displayName: string; logo: { kind: string; url: string } | null }>,
    );

  beforeAll(async () => {
    store = await startInProcess('postgres');
    acme = await createPublisher(store.url, 'acme', ['charts:read', 'charts:write', 'listings:write']);
    await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 0);
    cookie = await consoleSignIn(store, acme);
  }, 60_000);
  afterAll(() => store?.close());

  it('creates a token shown once that works against the API; a revoked one stops working', async () => {
    const created = await consoleForm(store, '/console/acme/tokens', cookie, {
      name: 'deploy',
      scopes: 'charts:read',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBeNull();
    expect(created.headers.get('cache-control')).toContain('no-store');
    const html = await created.text();
    const token = /(berth_pat_[A-Za-z0-9_-]+)/.exec(html)?.[1];
    expect(token).toBeDefined();
    const api = (t: string) =>
      fetch(`${store.url}/v1/publishers/acme/analytics/downloads`, { headers: bearer(t) });
    expect((await api(token!)).status).toBe(200);

    // The list never shows it again.
    const list = await page('/console/acme/tokens');
    expect(list.status).toBe(200);
    expect(list.html).toContain('deploy');
    expect(list.html).not.toContain(token!);

    // Two scopes from checkboxes; a bad scope and a missing name are refused on the form's page.
    const body = new URLSearchParams([
      ['name', 'two'],
      ['scopes', 'charts:read'],
      ['scopes', 'charts:write'],
    ]);
    const two = await fetch(`${store.url}/console/acme/tokens`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie,
        origin: storeOrigin(store),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: body.toString(),
    });
    expect(two.status).toBe(201);
    expect(await two.text()).toContain('charts:read charts:write');
    const bad = await consoleForm(store, '/console/acme/tokens', cookie, { name: '', scopes: 'root' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('scopes');

    const tokens = (await (
      await fetch(`${store.url}/v1/publishers/acme/tokens`, { headers: bearer(acme.accessToken) })
    ).json()) as Array<{ id: string; name: string }>;
    const id = tokens.find((t) => t.name === 'deploy')!.id;
    // Without the store's Origin: refused, nothing revoked.
    expect(
      (await consoleForm(store, `/console/acme/tokens/${id}/revoke`, cookie, {}, { origin: null })).status,
    ).toBe(403);
    expect((await api(token!)).status).toBe(200);
    const revoked = await consoleForm(store, `/console/acme/tokens/${id}/revoke`, cookie);
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get('location')).toBe('/console/acme/tokens?done=tokenRevoked');
    expect((await api(token!)).status).toBe(401);
    expect((await page('/console/acme/tokens?done=tokenRevoked')).html).toContain('The token was revoked.');
    expect((await consoleForm(store, `/console/acme/tokens/not-a-uuid/revoke`, cookie)).status).toBe(404);
  });

  it('shows counted pulls per day and version, index fetches apart, and refuses a bad range with 400', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${store.url}/helm/acme/charts/superdb-1.0.0.tgz`);
      await r.arrayBuffer();
      expect(r.status).toBe(200);
    }
    await (await fetch(`${store.url}/helm/acme/index.yaml`)).arrayBuffer();
    await store.app.get(DownloadCounter).flush();

    const a = await page('/console/acme/analytics');
    expect(a.status).toBe(200);
    expect(a.html).toContain('3 downloads of chart archives');
    expect(a.html).toContain(`<td>${today}</td>`);
    expect(a.html).toMatch(/<td>superdb<\/td><td>1\.0\.0<\/td><td>3 <meter/);
    expect(a.html).toContain('Index fetches');
    expect(a.html).not.toContain('style=');
    // The default range: the last 30 days, shown in the form.
    expect(a.html).toContain(`name="to" value="${today}"`);

    const one = await page(`/console/acme/analytics?chart=superdb&from=${today}&to=${today}`);
    expect(one.status).toBe(200);
    expect(one.html).toContain('3 downloads');

    const backwards = await page('/console/acme/analytics?from=2026-02-01&to=2026-01-01');
    expect(backwards.status).toBe(400);
    expect(backwards.html).toContain('from must be on or before to');
    // The same refusal as the API's.
    const apiRefusal = await fetch(
      `${store.url}/v1/publishers/acme/analytics/downloads?from=2026-02-01&to=2026-01-01`,
      { headers: bearer(acme.accessToken) },
    );
    expect(await statusAndCode(apiRefusal)).toEqual([400, 'date_range_invalid']);
    const tooLong = await page('/console/acme/analytics?from=2020-01-01&to=2026-01-01');
    expect(tooLong.status).toBe(400);
    const notADate = await page('/console/acme/analytics?from=yesterday');
    expect(notADate.status).toBe(400);
    expect(notADate.html).toContain('from must be a date');
  });

  it('changes the name (on the storefront at once), the logo address, and refuses unsafe addresses', async () => {
    // The storefront page is rendered and kept before the change.
    expect(await (await fetch(`${store.url}/publishers/acme`)).text()).toContain('ACME');
    const saved = await consoleForm(store, '/console/acme/profile', cookie, {
      displayName: 'Acme Charts Ltd',
      supportEmail: 'help@acme.example',
      logoUrl: 'https://cdn.acme.example/logo.png',
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/console/acme/profile?done=profile');
    const storefront = await (await fetch(`${store.url}/publishers/acme`)).text();
    expect(storefront).toContain('Acme Charts Ltd');
    expect(storefront).toContain('src="https://cdn.acme.example/logo.png"');
    expect(await profile()).toMatchObject({
      displayName: 'Acme Charts Ltd',
      logo: { kind: 'url', url: 'https://cdn.acme.example/logo.png' },
    });

    for (const logoUrl of [
      'http://cdn.acme.example/logo.png',
      'javascript:alert(1)',
      `https://x/${'a'.repeat(2100)}`,
    ]) {
      const refused = await consoleForm(store, '/console/acme/profile', cookie, {
        displayName: 'Changed',
        logoUrl,
      });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain('https:// URL');
    }
    expect((await profile()).displayName).toBe('Acme Charts Ltd');
    // The API refuses alike, with the stable code.
    const api = await fetch(`${store.url}/v1/publishers/acme/profile`, {
      method: 'PATCH',
      headers: { ...bearer(acme.accessToken), 'content-type': 'application/json' },
      body: JSON.stringify({ logoUrl: 'javascript:alert(1)' }),
    });
    expect(await statusAndCode(api)).toEqual([400, 'logo_url_invalid']);
    const emptyName = await fetch(`${store.url}/v1/publishers/acme/profile`, {
      method: 'PATCH',
      headers: { ...bearer(acme.accessToken), 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: '   ' }),
    });
    expect(await statusAndCode(emptyName)).toEqual([400, 'display_name_invalid']);
    const tooLongName = await consoleForm(store, '/console/acme/profile', cookie, {
      displayName: 'x'.repeat(101),
    });
    expect(tooLongName.status).toBe(400);
    expect(await tooLongName.text()).toContain('1 to 100 characters');
  });

  it('serves an uploaded PNG back byte for byte; refuses SVG, HTML named .png, and oversized images', async () => {
    const bytes = png();
    const sha = createHash('sha256').update(bytes).digest('hex');
    const up = await consoleMultipart(
      '/console/acme/profile',
      { displayName: 'Acme Charts Ltd', supportEmail: '', logoUrl: '' },
      { logo: { bytes, name: 'logo.png', type: 'image/png' } },
    );
    expect(up.status).toBe(303);
    expect(await profile()).toMatchObject({ logo: { kind: 'file', url: expect.stringContaining(sha) } });
    const storefront = await (await fetch(`${store.url}/publishers/acme`)).text();
    expect(storefront).toContain(`src="/publishers/acme/logo/${sha}"`);
    const served = await fetch(`${store.url}/publishers/acme/logo/${sha}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('cache-control')).toContain('immutable');
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    const etag = served.headers.get('etag')!;
    expect(
      (await fetch(`${store.url}/publishers/acme/logo/${sha}`, { headers: { 'if-none-match': etag } }))
        .status,
    ).toBe(304);
    expect((await fetch(`${store.url}/publishers/acme/logo/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await fetch(`${store.url}/publishers/acme/logo`)).headers.get('content-type')).toBe('image/png');

    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const html = Buffer.from('<!doctype html><html><script>alert(1)</script></html>');
    for (const [b, name, type] of [
      [svg, 'logo.svg', 'image/svg+xml'],
      [html, 'logo.png', 'image/png'],
    ] as const) {
      const refused = await consoleMultipart(
        '/console/acme/profile',
        { displayName: 'Acme Charts Ltd' },
        { logo: { bytes: b, name, type } },
      );
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain('PNG, JPEG or WebP');
      const api = await fetch(`${store.url}/v1/publishers/acme/logo`, {
        method: 'PUT',
        headers: { ...bearer(acme.accessToken), 'content-type': type },
        body: b,
      });
      expect(await statusAndCode(api)).toEqual([400, 'logo_type_unsupported']);
    }
    const big = Buffer.concat([bytes, randomBytes(300 * 1024)]);
    const tooBig = await consoleMultipart(
      '/console/acme/profile',
      { displayName: 'Acme Charts Ltd' },
      { logo: { bytes: big, name: 'big.png', type: 'image/png' } },
    );
    expect(tooBig.status).toBe(413);
    const apiBig = await fetch(`${store.url}/v1/publishers/acme/logo`, {
      method: 'PUT',
      headers: { ...bearer(acme.accessToken), 'content-type': 'image/png' },
      body: big,
    });
    expect(await statusAndCode(apiBig)).toEqual([413, 'logo_too_large']);
    // Still the first logo.
    expect(
      Buffer.from(await (await fetch(`${store.url}/publishers/acme/logo/${sha}`)).arrayBuffer()),
    ).toEqual(bytes);

    // API parity: PUT a new image (a new address), DELETE removes it.
    const other = Buffer.concat([bytes, Buffer.from('trailing')]);
    const put = await fetch(`${store.url}/v1/publishers/acme/logo`, {
      method: 'PUT',
      headers: { ...bearer(acme.accessToken), 'content-type': 'application/octet-stream' },
      body: other,
    });
    expect(put.status).toBe(200);
    const otherSha = createHash('sha256').update(other).digest('hex');
    expect(((await put.json()) as { logo: { url: string } }).logo.url).toContain(otherSha);
    expect((await fetch(`${store.url}/publishers/acme/logo/${sha}`)).status).toBe(404);
    const del = await fetch(`${store.url}/v1/publishers/acme/logo`, {
      method: 'DELETE',
      headers: bearer(acme.accessToken),
    });
    expect(del.status).toBe(200);
    expect((await profile()).logo).toBeNull();
    expect((await fetch(`${store.url}/publishers/acme/logo`)).status).toBe(404);
  });

  it("lists the console's own actions in the audit log, newest first, by action, with hostile values as text", async () => {
    // Hostile values: a token name, a display name, a user agent.
    expect(
      (await consoleForm(store, '/console/acme/tokens', cookie, { name: HOSTILE, scopes: 'charts:read' }))
        .status,
    ).toBe(201);
    const named = await consoleForm(
      store,
      '/console/acme/profile',
      cookie,
      { displayName: HOSTILE },
      { headers: { 'user-agent': HOSTILE } },
    );
    expect(named.status).toBe(303);

    const log = await page('/console/acme/audit');
    expect(log.status).toBe(200);
    for (const action of ['api_token_created', 'api_token_revoked', 'profile_changed', 'signed_in'])
      expect(log.html).toContain(`<code>${action}</code>`);
    expect(log.html).toContain(acme.email);
    expect(log.html).not.toContain('<script>');
    expect(log.html).toContain(ESCAPED);
    // Newest first: the profile change before the token made just before it.
    expect(log.html.indexOf('<code>profile_changed</code>')).toBeLessThan(
      log.html.indexOf('<code>api_token_created</code>'),
    );

    const onlyTokens = await page('/console/acme/audit?action=api_token_revoked');
    expect(onlyTokens.html).toContain('<code>api_token_revoked</code>');
    expect(onlyTokens.html).not.toContain('<code>profile_changed</code>');
    expect((await page('/console/acme/audit?action=nope')).status).toBe(400);
    expect((await page('/console/acme/audit?cursor=garbage')).status).toBe(400);

    for (const path of ['/console/acme/tokens', '/console/acme/profile', '/console/acme/analytics']) {
      const p = await page(path);
      expect(p.html).not.toContain('<script>alert');
    }
    const storefront = await (await fetch(`${store.url}/publishers/acme`)).text();
    expect(storefront).toContain(ESCAPED);
    expect(storefront).not.toContain('<script>alert');
  });

  it('answers the sections only with a session, and only for the own publisher', async () => {
    const other = await createPublisher(store.url, 'other');
    for (const section of ['tokens', 'analytics', 'audit', 'profile']) {
      expect((await consoleGet(store, `/console/acme/${section}`, '')).status).toBe(401);
      expect((await consoleGet(store, `/console/other/${section}`, cookie)).status).toBe(403);
    }
    expect((await consoleForm(store, '/console/other/profile', cookie, { displayName: 'Mine' })).status).toBe(
      403,
    );
    expect(await (await fetch(`${store.url}/publishers/other`)).text()).toContain(other.slug.toUpperCase());
  });

  it('deletes the uploaded logos when the account is closed', async () => {
    const blobs = store.app.get<BlobStore>(BLOB_STORE);
    const [{ id }] = (await store.app
      .get(DataSource)
      .query(`SELECT id FROM publisher WHERE slug = 'acme'`)) as Array<{ id: string }>;
    const stored = async () => {
      const keys: string[] = [];
      for await (const b of blobs.list(`logos/${id}/`)) keys.push(b.key);
      return keys;
    };
    const put = await fetch(`${store.url}/v1/publishers/acme/logo`, {
      method: 'PUT',
      headers: { ...bearer(acme.accessToken), 'content-type': 'image/png' },
      body: png(),
    });
    expect(put.status).toBe(200);
    expect((await stored()).length).toBe(1);
    const close = await fetch(`${store.url}/v1/account`, {
      method: 'DELETE',
      headers: { ...bearer(acme.accessToken), 'content-type': 'application/json' },
      body: JSON.stringify({ password: acme.password }),
    });
    expect(close.status).toBe(204);
    expect(await stored()).toEqual([]);
    expect((await fetch(`${store.url}/publishers/acme/logo`)).status).toBe(404);
  });
});
