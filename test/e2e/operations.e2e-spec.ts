import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { createPublisher, Publisher } from '../support/api';
import { simpleChart } from '../support/charts';
import { freePorts } from '../support/minio';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { MAIN, startStore, StoreProcess } from '../support/store-process';

const exec = promisify(execFile);
// Colours, as pino-pretty writes them on a terminal.
const stripAnsi = (s: string) => s.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
jest.setTimeout(120_000);

describe('operations', () => {
  let db: TestDatabase;
  let store: StoreProcess;
  let pub: Publisher;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = await startStore({ DATABASE_URL: db.url });
    pub = await createPublisher(store.url, 'ops');
  });
  afterAll(async () => {
    await store?.stop();
    await db?.drop();
  });

  it('reports liveness, readiness and Prometheus metrics', async () => {
    expect(await (await fetch(`${store.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${store.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { status: 'ok', checks: { database: 'up', blobStore: 'up' } },
    ]);
    const metrics = await (await fetch(`${store.url}/metrics`)).text();
    expect(metrics).toMatch(/berth_http_requests_total\{method="GET",route="\/readyz",status="200"\} \d+/);
    expect(metrics).toContain('process_resident_memory_bytes');
  });

  it('answers unknown routes and bad JSON with the error shape and stable codes', async () => {
    const missing = await fetch(`${store.url}/v1/nothing-here`);
    expect([missing.status, await missing.json()]).toEqual([
      404,
      { error: { code: 'route_not_found', message: expect.any(String) } },
    ]);
    const badJson = await fetch(`${store.url}/v1/sessions`, { method: 'POST', body: '{"email":' });
    expect([badJson.status, ((await badJson.json()) as { error: { code: string } }).error.code]).toEqual([
      400,
      'invalid_json',
    ]);
    const unknownField = await fetch(`${store.url}/v1/sessions`, {
      method: 'POST',
      body: JSON.stringify({ email: 'a@b.c', password: 'x', admin: true }),
    });
    expect([
      unknownField.status,
      ((await unknownField.json()) as { error: { code: string } }).error.code,
    ]).toEqual([400, 'validation_failed']);
    const huge = await fetch(`${store.url}/v1/sessions`, {
      method: 'POST',
      body: JSON.stringify({ email: 'a'.repeat(100_000), password: 'x' }),
    });
    expect(huge.status).toBe(413);
  });

  it('throttles password guessing with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${store.url}/v1/sessions`, {
        method: 'POST',
        body: JSON.stringify({ email: pub.email, password: `wrong-${i}` }),
      });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('never writes passwords, tokens or Authorization values to its logs', async () => {
    await fetch(`${store.url}/helm/ops/index.yaml`, {
      headers: { authorization: `Basic ${Buffer.from(`u:${pub.apiToken}`).toString('base64')}` },
    });
    await fetch(`${store.url}/api/ops/charts`, {
      headers: { authorization: 'Bearer berth_pat_leaked-looking-token' },
    });
    const logs = store.output.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [
      pub.apiToken,
      pub.password,
      pub.accessToken,
      'berth_pat_leaked-looking-token',
      Buffer.from(`u:${pub.apiToken}`).toString('base64'),
    ]) {
      expect(logs).not.toContain(secret);
    }
    for (const line of store.output.filter((l) => l.startsWith('{')))
      expect(() => JSON.parse(line)).not.toThrow();
  });

  it('finishes an in-flight upload on SIGTERM, then exits 0', async () => {
    const chart = await simpleChart('slow', '1.0.0');
    const url = new URL(`${store.url}/api/ops/charts`);
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${pub.apiToken}`, 'content-length': chart.length },
        },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      // Half the body now, SIGTERM, the rest a moment later: the server must wait for it.
      req.write(chart.subarray(0, 100));
      setTimeout(() => {
        store.child.kill('SIGTERM');
        setTimeout(() => req.end(chart.subarray(100)), 500);
      }, 200);
    });
    expect(await response).toEqual({ status: 201, body: '{"saved":true}' });
    expect(await store.exited).toBe(0);
    expect(store.output.join('\n')).toMatch(/shutting down/);
  });

  it('refuses to start on invalid configuration, listing every problem', async () => {
    const run = exec(process.execPath, [MAIN], {
      env: {
        ...process.env,
        PORT: 'abc',
        BLOB_STORE: 's3',
        NODE_ENV: 'production',
        DATA_DIR: '/tmp/berth-never',
      },
    });
    await expect(run).rejects.toMatchObject({ code: 1 });
    const err = (await run.catch((e: { stderr: string }) => e)) as { stderr: string };
    expect(err.stderr).toMatch(/PORT/);
    expect(err.stderr).toMatch(/S3_BUCKET/);
    expect(err.stderr).toMatch(/ACCESS_TOKEN_SECRET/);
    expect(err.stderr).toMatch(/LICENSE_SIGNING_SECRET/);
    expect(err.stderr).toMatch(/STRIPE_SECRET_KEY/);
  });

  it('starts on a terminal with a few readable lines, the last saying where to open the store', async () => {
    // `script` gives the store a real pseudo-terminal, as `npm start` in a terminal does.
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-tty-'));
    const [port] = await freePorts(1);
    const child = spawn(
      'script',
      ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)}`, '/dev/null'],
      {
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          NODE_ENV: 'development',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      const until = Date.now() + 60_000;
      while (!/open http:\/\/localhost:\d+\/\s*$/.test(stripAnsi(out)) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const lines = stripAnsi(out)
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      expect(lines[lines.length - 1]).toMatch(
        new RegExp(`INFO: \\[Bootstrap\\] Berth is ready: open http://localhost:${port}/$`),
      );
      // Readable lines, not JSON; the framework's module and route lines are at debug.
      expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
      expect(lines.filter((l) => /Mapped \{|dependencies initialized/.test(l))).toEqual([]);
      expect(lines.length).toBeLessThanOrEqual(10);
      expect(lines.every((l) => /^\[\d\d:\d\d:\d\d\] (INFO|WARN):/.test(l))).toBe(true);
      expect(lines.some((l) => l.includes('PAYMENTS ARE LOCAL'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
