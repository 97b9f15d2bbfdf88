// `npm run demo`: fills a running local store (`npm start` in another terminal) with a demo publisher and
// two charts, one free and one paid, through the public API only, so the storefront has something to show
// and to sell. It confirms the demo account with the link the store mailed into DATA_DIR/outbox (the
// embedded default); with SMTP_URL set, confirm it from the mail yourself and run it again.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tarGz } from '../test/support/charts';

const STORE = (process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 8080}`).replace(/\/+$/, '');
const OUTBOX = join(resolve(process.env.DATA_DIR ?? './data'), 'outbox');
const EMAIL = 'demo@berth.example';
const PASSWORD = 'demo password, not secret';
const SLUG = 'demo';

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${STORE}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** Quoted-printable as nodemailer writes long lines: soft breaks and =XX escapes. */
const unQuotedPrintable = (s: string) =>
  s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

async function confirmationToken(since: number): Promise<string> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    const files = await readdir(OUTBOX).catch(() => [] as string[]);
    for (const f of files
      .filter((n) => n.endsWith('.eml'))
      .sort()
      .reverse()) {
      if ((await stat(join(OUTBOX, f))).mtimeMs < since) break; // newest first: the rest are older
      const text = unQuotedPrintable(await readFile(join(OUTBOX, f), 'utf8'));
      const token = /\/account\/verify\?token=([\w.-]+)/.exec(text)?.[1];
      if (token && text.includes(EMAIL)) return token;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no confirmation mail for ${EMAIL} in ${OUTBOX} within 20 s (is SMTP_URL set?)`);
}

async function accessToken(): Promise<string> {
  let login = await call('POST', '/v1/sessions', { email: EMAIL, password: PASSWORD });
  if (login.status === 401) {
    const since = Date.now() - 1000;
    const signup = await call('POST', '/v1/accounts', {
      email: EMAIL,
      password: PASSWORD,
      publisher: { slug: SLUG, displayName: 'Demo Software' },
    });
    if (signup.status !== 201) throw new Error(`sign-up: ${signup.status} ${JSON.stringify(signup.json)}`);
    if (signup.json.emailVerification === 'sent') {
      const token = await confirmationToken(since);
      const ok = await call('POST', '/v1/accounts/verification', { token });
      if (ok.status !== 200) throw new Error(`confirmation: ${ok.status} ${JSON.stringify(ok.json)}`);
    }
    login = await call('POST', '/v1/sessions', { email: EMAIL, password: PASSWORD });
  }
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.json)}`);
  return login.json.accessToken as string;
}

function chart(name: string, version: string, description: string, readme: string): Promise<Buffer> {
  return tarGz([
    {
      name: `${name}/Chart.yaml`,
      content: [
        'apiVersion: v2',
        `name: ${name}`,
        `version: ${version}`,
        'appVersion: "1.0"',
        `description: ${description}`,
        'keywords: [demo, database]',
        'annotations:',
        '  artifacthub.io/changes: |',
        `    - kind: added`,
        `      description: Release ${version}`,
        '',
      ].join('\n'),
    },
    {
      name: `${name}/values.yaml`,
      content: `# How many pods\nreplicas: ${version.startsWith('1.0') ? 1 : 2}\nimage:\n  tag: "${version}"\n`,
    },
    {
      name: `${name}/values.schema.json`,
      content: JSON.stringify({
        type: 'object',
        properties: {
          replicas: { type: 'integer', minimum: 1, description: 'How many pods' },
          image: { type: 'object', properties: { tag: { type: 'string', description: 'Image tag' } } },
        },
      }),
    },
    {
      name: `${name}/templates/configmap.yaml`,
      content:
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  replicas: "{{ .Values.replicas }}"\n',
    },
    { name: `${name}/README.md`, content: readme },
  ]);
}

async function main() {
  const access = await accessToken();
  const tok = await call(
    'POST',
    `/v1/publishers/${SLUG}/tokens`,
    { name: `demo-${Date.now()}`, scopes: ['charts:write', 'listings:write'] },
    { authorization: `Bearer ${access}` },
  );
  if (tok.status !== 201) throw new Error(`API token: ${tok.status} ${JSON.stringify(tok.json)}`);
  const auth = { authorization: `Bearer ${tok.json.token as string}` };
  const charts = [
    { name: 'hello-berth', versions: ['1.0.0'], price: 0, text: 'A free chart to try the store with' },
    { name: 'superdb', versions: ['1.0.0', '1.1.0'], price: 4900, text: 'A database you pay for once' },
  ];
  for (const c of charts) {
    for (const v of c.versions) {
      const readme = `# ${c.name}\n\n${c.text}.\n\n## Install\n\nSee the install box on this page.\n`;
      const up = await call('POST', `/api/${SLUG}/charts`, await chart(c.name, v, c.text, readme), {
        ...auth,
        'content-type': 'application/octet-stream',
      });
      if (up.status !== 201 && up.status !== 409) throw new Error(`upload ${c.name} ${v}: ${up.status}`);
    }
    const listing = await call(
      'PUT',
      `/v1/publishers/${SLUG}/charts/${c.name}/listing`,
      { price: { amount: c.price, currency: 'usd' }, updatePolicy: { kind: 'major' }, published: true },
      auth,
    );
    if (listing.status !== 200)
      throw new Error(`listing ${c.name}: ${listing.status} ${JSON.stringify(listing.json)}`);
  }
  process.stdout.write(
    `demo: publisher "${SLUG}" has hello-berth (free) and superdb ($49.00). Open ${STORE}/ and buy superdb;\n` +
      `the license mail lands in ${OUTBOX}/. Publisher sign-in: ${EMAIL} / "${PASSWORD}".\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
