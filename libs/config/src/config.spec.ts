import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, sensitiveVariables } from './config';

const dataDir = () => mkdtempSync(join(tmpdir(), 'berth-config-'));

describe('loadConfig', () => {
  it('serves the embedded defaults with no variables and persists a generated dev secret', () => {
    const dir = dataDir();
    const a = loadConfig({ DATA_DIR: dir });
    expect(a.port).toBe(8080);
    expect(a.publicUrl).toBe('http://localhost:8080');
    expect(a.database.url).toBeUndefined();
    expect(a.blobStore).toEqual({ driver: 'fs', root: join(dir, 'blobs') });
    expect(a.auth.accessTokenSecret.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(join(dir, 'secrets', 'access-token-secret'), 'utf8')).toBe(a.auth.accessTokenSecret);
    expect(loadConfig({ DATA_DIR: dir }).auth.accessTokenSecret).toBe(a.auth.accessTokenSecret);
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({
        DATA_DIR: dataDir(),
        PORT: 'eighty',
        BLOB_STORE: 'ftp',
        LOG_LEVEL: 'loud',
        PUBLIC_URL: 'not a url',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/BLOB_STORE/);
    expect(problems).toMatch(/LOG_LEVEL/);
    expect(problems).toMatch(/PUBLIC_URL/);
  });

  it('gives each publisher half the upload slots unless told, never more than all, and validates the upload guards', () => {
    const d = loadConfig({ DATA_DIR: dataDir() }).uploads;
    expect(d).toMatchObject({
      concurrency: 8,
      concurrencyPerPublisher: 4,
      idleTimeoutSeconds: 15,
      minBytesPerSecond: 16384,
      publisherQuotaBytes: 10 * 1024 ** 3,
    });
    expect(loadConfig({ DATA_DIR: dataDir(), UPLOAD_CONCURRENCY: '3' }).uploads.concurrencyPerPublisher).toBe(
      2,
    );
    expect(
      loadConfig({ DATA_DIR: dataDir(), UPLOAD_CONCURRENCY: '2', UPLOAD_CONCURRENCY_PER_PUBLISHER: '5' })
        .uploads.concurrencyPerPublisher,
    ).toBe(2);
    expect(() =>
      loadConfig({
        DATA_DIR: dataDir(),
        UPLOAD_CONCURRENCY_PER_PUBLISHER: '0',
        UPLOAD_IDLE_TIMEOUT_SECONDS: '0',
        PUBLISHER_QUOTA_BYTES: 'lots',
      }),
    ).toThrow(
      /UPLOAD_CONCURRENCY_PER_PUBLISHER[\s\S]*UPLOAD_IDLE_TIMEOUT_SECONDS[\s\S]*PUBLISHER_QUOTA_BYTES/,
    );
  });

  it('requires S3 settings only when the s3 driver is chosen', () => {
    expect(() => loadConfig({ DATA_DIR: dataDir(), BLOB_STORE: 's3' })).toThrow(/S3_BUCKET/);
    const c = loadConfig({
      DATA_DIR: dataDir(),
      BLOB_STORE: 's3',
      S3_BUCKET: 'charts',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'k',
      S3_SECRET_ACCESS_KEY: 's',
    });
    expect(c.blobStore).toMatchObject({ driver: 's3', bucket: 'charts', forcePathStyle: true });
  });

  it('requires real secrets in production and never echoes a secret value', () => {
    const secret = 'short-secret-value';
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir(), ACCESS_TOKEN_SECRET: secret });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).message).toMatch(/ACCESS_TOKEN_SECRET/);
    expect((error as ConfigError).message).not.toContain(secret);
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir() })).toThrow(/ACCESS_TOKEN_SECRET/);
    expect(sensitiveVariables()).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'S3_SECRET_ACCESS_KEY', 'ACCESS_TOKEN_SECRET']),
    );
  });

  it('keeps /metrics off the public port only as asked, and hides its token', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).metrics).toEqual({ port: undefined, token: undefined });
    const token = 'm'.repeat(40);
    expect(loadConfig({ DATA_DIR: dataDir(), METRICS_PORT: '9100', METRICS_TOKEN: token }).metrics).toEqual({
      port: 9100,
      token,
    });
    expect(loadConfig({ DATA_DIR: dataDir(), METRICS_PORT: '0' }).metrics.port).toBe(0);
    expect(() => loadConfig({ DATA_DIR: dataDir(), PORT: '9100', METRICS_PORT: '9100' })).toThrow(
      /METRICS_PORT must differ from PORT/,
    );
    let error: unknown;
    try {
      loadConfig({ DATA_DIR: dataDir(), METRICS_TOKEN: 'too-short-token' });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).message).toMatch(/METRICS_TOKEN/);
    expect((error as ConfigError).message).not.toContain('too-short-token');
    expect(sensitiveVariables()).toContain('METRICS_TOKEN');
  });

  it('bounds database statements by default and tells an unset TRUST_PROXY from an explicit one', () => {
    const defaults = loadConfig({ DATA_DIR: dataDir() });
    expect(defaults.database.statementTimeoutMs).toBe(5000);
    expect(defaults.http).toMatchObject({ trustProxy: false, trustProxyConfigured: false });
    expect(
      loadConfig({ DATA_DIR: dataDir(), DATABASE_STATEMENT_TIMEOUT_MS: '0' }).database.statementTimeoutMs,
    ).toBe(0);
    expect(() => loadConfig({ DATA_DIR: dataDir(), DATABASE_STATEMENT_TIMEOUT_MS: '-1' })).toThrow(
      /DATABASE_STATEMENT_TIMEOUT_MS/,
    );
    expect(loadConfig({ DATA_DIR: dataDir(), TRUST_PROXY: 'false' }).http).toMatchObject({
      trustProxy: false,
      trustProxyConfigured: true,
    });
    expect(loadConfig({ DATA_DIR: dataDir(), TRUST_PROXY: '1' }).http.trustProxy).toBe(1);
  });

  it('pays publishers out only when asked, with a Connect secret for Stripe and a parsed fee table', () => {
    const plain = loadConfig({ DATA_DIR: dataDir() }).payouts;
    expect(plain).toMatchObject({
      mode: 'none',
      feeBps: 0,
      feeFixed: {},
      refundPlatformFee: false,
      onBehalfOf: false,
    });
    const local = loadConfig({
      DATA_DIR: dataDir(),
      PAYOUTS: 'connect',
      PLATFORM_FEE_BPS: '250',
      PLATFORM_FEE_FIXED: 'USD:30,jpy:40',
      REFUND_PLATFORM_FEE: 'true',
    }).payouts;
    expect(local).toMatchObject({
      mode: 'connect',
      feeBps: 250,
      feeFixed: { usd: 30, jpy: 40 },
      refundPlatformFee: true,
    });
    const stripe = {
      DATA_DIR: dataDir(),
      STRIPE_SECRET_KEY: 'sk_test_x',
      STRIPE_WEBHOOK_SECRET: 'whsec_payments',
    };
    expect(() => loadConfig({ ...stripe, PAYOUTS: 'connect' })).toThrow(/STRIPE_CONNECT_WEBHOOK_SECRET/);
    expect(
      loadConfig({ ...stripe, PAYOUTS: 'connect', STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_connect_secret' })
        .payouts.connectWebhookSecret,
    ).toBe('whsec_connect_secret');
    expect(sensitiveVariables()).toContain('STRIPE_CONNECT_WEBHOOK_SECRET');
    for (const bad of [
      { PAYOUTS: 'stripe' },
      { PLATFORM_FEE_BPS: '10001' },
      { PLATFORM_FEE_BPS: '-1' },
      { PLATFORM_FEE_FIXED: 'usd=30' },
      { PLATFORM_FEE_FIXED: 'usd:-5' },
      { PLATFORM_FEE_FIXED: 'dollars:5' },
    ]) {
      expect(() => loadConfig({ DATA_DIR: dataDir(), ...bad })).toThrow(ConfigError);
    }
  });

  it('ignores a trailing slash on PUBLIC_URL', () => {
    expect(loadConfig({ DATA_DIR: dataDir(), PUBLIC_URL: 'https://store.example.com/' }).publicUrl).toBe(
      'https://store.example.com',
    );
  });

  it("keeps CHECKOUT_EXPIRY_SECONDS inside Stripe's session life (30 minutes to 24 hours)", () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).payments.checkoutExpirySeconds).toBe(1800);
    expect(
      loadConfig({ DATA_DIR: dataDir(), CHECKOUT_EXPIRY_SECONDS: '7200' }).payments.checkoutExpirySeconds,
    ).toBe(7200);
    expect(() => loadConfig({ DATA_DIR: dataDir(), CHECKOUT_EXPIRY_SECONDS: '60' })).toThrow(
      /CHECKOUT_EXPIRY_SECONDS/,
    );
    expect(() => loadConfig({ DATA_DIR: dataDir(), CHECKOUT_EXPIRY_SECONDS: '90000' })).toThrow(
      /CHECKOUT_EXPIRY_SECONDS/,
    );
  });

  it('reads the request limits and the password-hash bound, with defaults, and refuses nonsense', () => {
    const d = loadConfig({ DATA_DIR: dataDir() });
    expect(d.http).toMatchObject({
      signupsPerClient: 10,
      checkoutsPerClient: 30,
      loginLinksPerClient: 20,
      loginLinksPerEmail: 5,
      clientLimitWindowSeconds: 3600,
    });
    expect(d.auth).toMatchObject({ hashConcurrency: 2, hashQueue: 32 });
    const c = loadConfig({
      DATA_DIR: dataDir(),
      SIGNUPS_PER_CLIENT: '3',
      CHECKOUTS_PER_CLIENT: '7',
      LOGIN_LINKS_PER_CLIENT: '4',
      LOGIN_LINKS_PER_EMAIL: '2',
      CLIENT_LIMIT_WINDOW_SECONDS: '60',
      PASSWORD_HASH_CONCURRENCY: '4',
      PASSWORD_HASH_QUEUE: '0',
    });
    expect(c.http).toMatchObject({
      signupsPerClient: 3,
      checkoutsPerClient: 7,
      loginLinksPerClient: 4,
      loginLinksPerEmail: 2,
      clientLimitWindowSeconds: 60,
    });
    expect(c.auth).toMatchObject({ hashConcurrency: 4, hashQueue: 0 });
    expect(() =>
      loadConfig({ DATA_DIR: dataDir(), SIGNUPS_PER_CLIENT: '0', PASSWORD_HASH_CONCURRENCY: '0' }),
    ).toThrow(
      /SIGNUPS_PER_CLIENT[\s\S]*PASSWORD_HASH_CONCURRENCY|PASSWORD_HASH_CONCURRENCY[\s\S]*SIGNUPS_PER_CLIENT/,
    );
  });

  it('counts downloads, keeps client hashes 90 days and flags sharing past 5 clients by default, all configurable', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).analytics).toEqual({
      counting: true,
      retentionDays: 90,
      sharingThreshold: 5,
    });
    const c = loadConfig({
      DATA_DIR: dataDir(),
      DOWNLOAD_COUNTING: 'off',
      ANALYTICS_RETENTION_DAYS: '30',
      LICENSE_SHARING_THRESHOLD: '3',
    });
    expect(c.analytics).toEqual({ counting: false, retentionDays: 30, sharingThreshold: 3 });
    expect(() => loadConfig({ DATA_DIR: dataDir(), DOWNLOAD_COUNTING: 'no' })).toThrow(/DOWNLOAD_COUNTING/);
    expect(() => loadConfig({ DATA_DIR: dataDir(), ANALYTICS_RETENTION_DAYS: '0' })).toThrow(
      /ANALYTICS_RETENTION_DAYS/,
    );
  });

  it('confirms sign-up e-mails unless told not to, and refuses any other setting', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).auth.emailVerification).toBe('required');
    expect(loadConfig({ DATA_DIR: dataDir(), SIGNUP_EMAIL_VERIFICATION: 'off' }).auth.emailVerification).toBe(
      'off',
    );
    expect(() => loadConfig({ DATA_DIR: dataDir(), SIGNUP_EMAIL_VERIFICATION: 'false' })).toThrow(
      /SIGNUP_EMAIL_VERIFICATION/,
    );
  });

  it('sends mail over SMTP only to an smtp(s) URL without path or query, else to .eml files', () => {
    const none = loadConfig({ DATA_DIR: dataDir(), PUBLIC_URL: 'https://charts.example.com' });
    expect(none.mail).toEqual({
      smtpUrl: undefined,
      outboxDir: join(none.dataDir, 'outbox'),
      from: 'Berth <no-reply@charts.example.com>',
    });
    for (const good of [
      'smtp://mailer:s%2Fecret@mail.example.com:587',
      'smtps://mail.example.com',
      'smtp://127.0.0.1:1025/',
    ])
      expect(loadConfig({ DATA_DIR: dataDir(), SMTP_URL: good }).mail.smtpUrl).toBe(good);
    // A query could switch on nodemailer's own logging, which would print messages past the redaction.
    for (const bad of [
      'http://mail.example.com',
      'smtp://mailer:hunter2@mail.example.com/?debug=true',
      'smtp://',
      'mail.example.com:25',
    ]) {
      let error: unknown;
      try {
        loadConfig({ DATA_DIR: dataDir(), SMTP_URL: bad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).toMatch(/SMTP_URL/);
      expect(String((error as Error).message)).not.toContain('hunter2');
    }
    expect(() => loadConfig({ DATA_DIR: dataDir(), MAIL_FROM: 'a@b\r\nBcc: x@y' })).toThrow(/MAIL_FROM/);
  });

  it('bounds the heap growth after a full GC, 50 % unless told, 0 to leave V8 its own rule', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).heapGrowthPercent).toBe(50);
    expect(loadConfig({ DATA_DIR: dataDir(), HEAP_GROWTH_PERCENT: '0' }).heapGrowthPercent).toBe(0);
    expect(loadConfig({ DATA_DIR: dataDir(), HEAP_GROWTH_PERCENT: '120' }).heapGrowthPercent).toBe(120);
    for (const bad of ['-1', '12.5', 'lots', '401'])
      expect(() => loadConfig({ DATA_DIR: dataDir(), HEAP_GROWTH_PERCENT: bad })).toThrow(
        /HEAP_GROWTH_PERCENT/,
      );
  });

  it('runs one process by default, and refuses several workers on the embedded database', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).workers).toBe(1);
    const url = 'postgres://postgres@127.0.0.1:5432/berth';
    expect(loadConfig({ DATA_DIR: dataDir(), DATABASE_URL: url, WEB_CONCURRENCY: '4' }).workers).toBe(4);
    // One worker is the embedded default spelled out: allowed.
    expect(loadConfig({ DATA_DIR: dataDir(), WEB_CONCURRENCY: '1' }).workers).toBe(1);
    let error: unknown;
    try {
      loadConfig({ DATA_DIR: dataDir(), WEB_CONCURRENCY: '2' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'WEB_CONCURRENCY=2 needs DATABASE_URL: the embedded database (PGlite) runs inside one process and cannot be shared by several workers (unset WEB_CONCURRENCY, or set DATABASE_URL to a Postgres server)',
    ]);
    for (const bad of ['0', '-1', '1.5', 'many', '257'])
      expect(() => loadConfig({ DATA_DIR: dataDir(), DATABASE_URL: url, WEB_CONCURRENCY: bad })).toThrow(
        /WEB_CONCURRENCY/,
      );
  });
});
