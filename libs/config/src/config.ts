import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from 'class-validator';
import 'reflect-metadata';

const SENSITIVE = Symbol('sensitive');

/** Marks a variable whose value must never be printed (logs, errors, config dumps). */
function Sensitive(): PropertyDecorator {
  return (target, key) => {
    const keys: string[] = Reflect.getMetadata(SENSITIVE, target) ?? [];
    Reflect.defineMetadata(SENSITIVE, [...keys, String(key)], target);
  };
}

const toBool = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()) : value;

/**
 * Every environment variable Berth reads, validated once at start. Rules that depend on the chosen
 * driver (S3_* when BLOB_STORE=s3) or on NODE_ENV (secrets required in production) live here too.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  @IsString()
  HOST = '0.0.0.0';

  /** Base of every absolute URL the store writes; never derived from Host or X-Forwarded-*. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  PUBLIC_URL?: string;

  @IsString()
  DATA_DIR = './data';

  /** Unset: the embedded PGlite under DATA_DIR/pg. */
  @IsOptional()
  @Sensitive()
  @IsString()
  DATABASE_URL?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  DATABASE_POOL_SIZE = 10;

  /**
   * Longest one statement of a request may take, in ms (0: no limit). Enforced by Postgres
   * (statement_timeout) and by the client too, so a frozen or unreachable server still answers 503
   * within it. Migrations and the change-feed listener are exempt; the embedded database has none.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  /**
   * Worker processes (node:cluster) serving PORT together, each with its own database pool and change-feed
   * listener; the primary applies migrations, then forks them. Postgres only: the embedded database
   * (PGlite) lives inside one process.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(256)
  WEB_CONCURRENCY = 1;

  /**
   * How far V8 lets the JavaScript heap grow past what the last full GC kept before it collects again
   * (V8's --heap-growing-percent). V8's own rule grows it up to 4× on a machine with memory to spare, which
   * under load kept ~150 MB of garbage per process; 0 leaves V8's rule.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(400)
  HEAP_GROWTH_PERCENT = 50;

  /** Days the keyed hashes of downloading clients are kept (distinct-client counts reach this far back). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3650)
  ANALYTICS_RETENTION_DAYS = 90;

  /**
   * `off`: downloads and index fetches are not counted at all (no analytics, no distinct clients, no
   * sharing flag); for an operator who wants none of it, and for the bench's before/after of its cost.
   */
  @IsIn(['on', 'off'])
  DOWNLOAD_COUNTING: 'on' | 'off' = 'on';

  /** A license downloaded by more distinct clients than this in a day is flagged as maybe shared. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LICENSE_SHARING_THRESHOLD = 5;

  @IsIn(['run', 'skip'])
  MIGRATIONS: 'run' | 'skip' = 'run';

  @IsIn(['fs', 's3'])
  BLOB_STORE: 'fs' | 's3' = 'fs';

  @ValidateIf((e: EnvironmentVariables) => e.BLOB_STORE === 's3')
  @IsString()
  @MinLength(3)
  S3_BUCKET?: string;

  @IsString()
  S3_REGION = 'us-east-1';

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  S3_ENDPOINT?: string;

  @Transform(toBool)
  @IsBoolean()
  S3_FORCE_PATH_STYLE = false;

  @IsOptional()
  @IsString()
  S3_ACCESS_KEY_ID?: string;

  @IsOptional()
  @Sensitive()
  @IsString()
  S3_SECRET_ACCESS_KEY?: string;

  @IsString()
  S3_PREFIX = '';

  /** HMAC secret of access tokens. Generated under DATA_DIR outside production. */
  @ValidateIf((e: EnvironmentVariables) => e.NODE_ENV === 'production' || e.ACCESS_TOKEN_SECRET !== undefined)
  @Sensitive()
  @IsString()
  @MinLength(32)
  ACCESS_TOKEN_SECRET?: string;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(86400)
  ACCESS_TOKEN_TTL_SECONDS = 3600;

  /** Seals the license signing keys stored in the database. Generated under DATA_DIR outside production. */
  @ValidateIf(
    (e: EnvironmentVariables) => e.NODE_ENV === 'production' || e.LICENSE_SIGNING_SECRET !== undefined,
  )
  @Sensitive()
  @IsString()
  @MinLength(32)
  LICENSE_SIGNING_SECRET?: string;

  /**
   * Longest a replica keeps a license's state cached. Revocation reaches every replica through the
   * change feed (LISTEN/NOTIFY) when it commits; this only caps an entry's life as a backstop.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3600)
  LICENSE_STATUS_CACHE_SECONDS = 30;

  /** Unset: the local payment page (refused in production unless ALLOW_LOCAL_PAYMENTS=true). */
  @IsOptional()
  @Sensitive()
  @IsString()
  STRIPE_SECRET_KEY?: string;

  @ValidateIf((e: EnvironmentVariables) => e.STRIPE_SECRET_KEY !== undefined)
  @Sensitive()
  @IsString()
  @MinLength(8)
  STRIPE_WEBHOOK_SECRET?: string;

  /** Points the Stripe SDK elsewhere (stripe-mock in tests). */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  STRIPE_API_URL?: string;

  @Transform(toBool)
  @IsBoolean()
  ALLOW_LOCAL_PAYMENTS = false;

  /** Accounts (by e-mail, comma-separated) that may use the operator routes (`/v1/operator/…`). */
  @IsOptional()
  @IsString()
  OPERATOR_EMAILS?: string;

  /**
   * `connect`: a marketplace. Each publisher is paid out through Stripe Connect (destination charges) and
   * the store keeps a platform fee. `none`: every sale lands in the operator's account.
   */
  @IsIn(['none', 'connect'])
  PAYOUTS: 'none' | 'connect' = 'none';

  /** Signing secret of the Connect webhook endpoint (`/v1/webhooks/stripe-connect`), a second endpoint. */
  @ValidateIf((e: EnvironmentVariables) => e.PAYOUTS === 'connect' && e.STRIPE_SECRET_KEY !== undefined)
  @Sensitive()
  @IsString()
  @MinLength(8)
  STRIPE_CONNECT_WEBHOOK_SECRET?: string;

  /** The platform fee in basis points of the price (250 = 2.5 %). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10000)
  PLATFORM_FEE_BPS = 0;

  /** A fixed fee per currency, in its smallest unit, added to the percentage: `usd:30,eur:25,jpy:40`. */
  @IsOptional()
  @Matches(/^[a-z]{3}:\d{1,9}(,[a-z]{3}:\d{1,9})*$/i, {
    message: 'PLATFORM_FEE_FIXED must look like usd:30,eur:25 (amounts in the smallest unit)',
  })
  PLATFORM_FEE_FIXED?: string;

  /** On a refund, give the platform fee back too (Stripe's refund_application_fee); otherwise the store keeps it. */
  @Transform(toBool)
  @IsBoolean()
  REFUND_PLATFORM_FEE = false;

  /**
   * When a buyer disputes a destination charge, take the disputed amount back from the publisher's account
   * (the platform carries the dispute: `losses.payments=application`); a won dispute sends it again.
   */
  @Transform(toBool)
  @IsBoolean()
  DISPUTE_REVERSE_TRANSFER = true;

  /** Charges are made on behalf of the publisher (their statement descriptor and country settle the charge). */
  @Transform(toBool)
  @IsBoolean()
  STRIPE_CONNECT_ON_BEHALF_OF = false;

  /**
   * How long a checkout stays payable: Stripe's `expires_at` and the local pay page's limit. Stripe takes
   * 30 minutes to 24 hours.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1800)
  @Max(86400)
  CHECKOUT_EXPIRY_SECONDS = 1800;

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(1024 * 1024 * 1024)
  UPLOAD_MAX_BYTES = 20 * 1024 * 1024;

  /** Uploads held in memory at once on this replica; more get 503 with Retry-After. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  UPLOAD_CONCURRENCY = 8;

  /** Of those, at most this many for one publisher; unset → half of UPLOAD_CONCURRENCY, rounded up. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  UPLOAD_CONCURRENCY_PER_PUBLISHER?: number;

  /** An upload body that sends no byte for this long is cut off with 408 upload_too_slow. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(300)
  UPLOAD_IDLE_TIMEOUT_SECONDS = 15;

  /** After UPLOAD_IDLE_TIMEOUT_SECONDS, an upload body averaging fewer bytes per second is cut off (408). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  UPLOAD_MIN_BYTES_PER_SECOND = 16 * 1024;

  /** Stored bytes (charts and .prov files, yanked ones included) one publisher may hold. */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  PUBLISHER_QUOTA_BYTES = 10 * 1024 * 1024 * 1024;

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  CHART_MAX_DECOMPRESSED_BYTES = 100 * 1024 * 1024;

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  CHART_MAX_FILE_BYTES = 5 * 1024 * 1024;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  CHART_MAX_ENTRIES = 10_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** `auto`: readable lines on a terminal, JSON (one object per line) when piped or collected. */
  @IsIn(['auto', 'json', 'pretty'])
  LOG_FORMAT: 'auto' | 'json' | 'pretty' = 'auto';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS = 10_000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES = 5;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_LOCKOUT_SECONDS = 900;

  /**
   * `required`: a new publisher account signs in only after opening the link mailed to it, and sign-up
   * answers the same for a taken and a free address. `off`: usable at once (a store whose only publisher is
   * its operator; the test suites).
   */
  @IsIn(['required', 'off'])
  SIGNUP_EMAIL_VERIFICATION: 'required' | 'off' = 'required';

  /** Argon2id hashes/verifications running at once per replica (each ~19 MiB and a libuv worker). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  PASSWORD_HASH_CONCURRENCY = 2;

  /** Password checks that may wait for a slot; more get 503 password_checks_busy with Retry-After. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000)
  PASSWORD_HASH_QUEUE = 32;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  ORPHAN_BLOB_GRACE_SECONDS = 3600;

  /** The largest blob (image layer) one registry upload may store. */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  REGISTRY_BLOB_MAX_BYTES = 10 * 1024 * 1024 * 1024;

  /** An upload session untouched this long is purged with its parts. */
  @Type(() => Number)
  @IsInt()
  @Min(60)
  REGISTRY_UPLOAD_TTL_SECONDS = 24 * 3600;

  /** A registry blob no manifest or session uses is deleted once it has been unused this long. */
  @Type(() => Number)
  @IsInt()
  @Min(60)
  REGISTRY_GC_GRACE_SECONDS = 3600;

  /** Failed credential checks (401) one client may make per window before its credentialed requests get 429. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  AUTH_FAILURES_PER_CLIENT = 30;

  /** Failed checks of one credential (token, license key, Basic pair) per window, whoever sends it. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  AUTH_FAILURES_PER_CREDENTIAL = 10;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86400)
  AUTH_FAILURE_WINDOW_SECONDS = 300;

  /** Sign-ups (POST /v1/accounts) one client may attempt per CLIENT_LIMIT_WINDOW_SECONDS, on all replicas. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  SIGNUPS_PER_CLIENT = 10;

  /** Checkouts (POST /v1/checkout) one client may start per CLIENT_LIMIT_WINDOW_SECONDS, on all replicas. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  CHECKOUTS_PER_CLIENT = 30;

  /** Sign-in links (POST /v1/buyer/login-links) one client may ask for per CLIENT_LIMIT_WINDOW_SECONDS. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_LINKS_PER_CLIENT = 20;

  /** Sign-in links asked for one e-mail address per CLIENT_LIMIT_WINDOW_SECONDS, from any client. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_LINKS_PER_EMAIL = 5;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86400)
  CLIENT_LIMIT_WINDOW_SECONDS = 3600;

  /**
   * Which proxies' X-Forwarded-For names the client, for rate limits only (Express `trust proxy`:
   * `false`, `loopback`, a hop count or CIDRs). URLs never come from forwarded headers.
   */
  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;

  /**
   * Serves /metrics on this port only (0: any free port), no longer on PORT. Unset: /metrics is on PORT,
   * behind METRICS_TOKEN when that is set, and not served at all in production without it.
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT?: number;

  /** A bearer token /metrics requires (`Authorization: Bearer …`), on whichever port serves it. */
  @IsOptional()
  @Sensitive()
  @IsString()
  @MinLength(32)
  METRICS_TOKEN?: string;

  /**
   * Where mail goes: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. Unset: each
   * message is written as an .eml file under DATA_DIR/outbox instead (the embedded default).
   */
  @IsOptional()
  @Sensitive()
  @Matches(/^smtps?:\/\/[^\s/?#]+\/?$/, {
    message: 'SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://… (no path or query)',
  })
  SMTP_URL?: string;

  /** The From of every message, `Name <address>` or an address; default no-reply at PUBLIC_URL's host. */
  @IsOptional()
  @IsString()
  @Matches(/^[^\r\n]{3,320}$/, { message: 'MAIL_FROM must be one line, `Name <address>` or an address' })
  MAIL_FROM?: string;

  /** Comma-separated origins allowed cross-origin calls to /v1; unset: no CORS headers at all. */
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;
}

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  database: { url?: string; poolSize: number; migrations: 'run' | 'skip'; statementTimeoutMs: number };
  /** WEB_CONCURRENCY: HTTP worker processes; 1 serves from this process, more fork a cluster (Postgres only). */
  workers: number;
  /** HEAP_GROWTH_PERCENT: V8's heap growth after a full GC, in percent; 0 keeps V8's default. */
  heapGrowthPercent: number;
  analytics: { counting: boolean; retentionDays: number; sharingThreshold: number };
  /** SMTP when `smtpUrl` is set; otherwise messages are files under `outboxDir`. */
  mail: { smtpUrl?: string; outboxDir: string; from: string };
  blobStore:
    | { driver: 'fs'; root: string }
    | {
        driver: 's3';
        bucket: string;
        region: string;
        endpoint?: string;
        forcePathStyle: boolean;
        accessKeyId?: string;
        secretAccessKey?: string;
        prefix: string;
      };
  auth: {
    accessTokenSecret: string;
    accessTokenTtlSeconds: number;
    loginMaxFailures: number;
    loginLockoutSeconds: number;
    hashConcurrency: number;
    emailVerification: 'required' | 'off';
    hashQueue: number;
  };
  uploads: {
    concurrency: number;
    concurrencyPerPublisher: number;
    idleTimeoutSeconds: number;
    minBytesPerSecond: number;
    publisherQuotaBytes: number;
    maxBytes: number;
    maxDecompressedBytes: number;
    maxFileBytes: number;
    maxEntries: number;
    orphanGraceSeconds: number;
  };
  licensing: { signingSecret: string; statusCacheSeconds: number };
  registry: { blobMaxBytes: number; uploadTtlSeconds: number; gcGraceSeconds: number };
  payments: (
    | { provider: 'stripe'; stripeSecretKey: string; stripeWebhookSecret: string; stripeApiUrl?: string }
    | { provider: 'local' }
  ) & { checkoutExpirySeconds: number };
  /** Canonical e-mails of the store's operators (OPERATOR_EMAILS). */
  operatorEmails: string[];
  payouts: {
    mode: 'none' | 'connect';
    feeBps: number;
    /** Fixed fee per lowercase currency code, in the currency's smallest unit. */
    feeFixed: Record<string, number>;
    refundPlatformFee: boolean;
    disputeReverseTransfer: boolean;
    onBehalfOf: boolean;
    /** Set when PAYOUTS=connect with Stripe. */
    connectWebhookSecret?: string;
  };
  http: {
    authFailuresPerClient: number;
    authFailuresPerCredential: number;
    authFailureWindowSeconds: number;
    signupsPerClient: number;
    checkoutsPerClient: number;
    loginLinksPerClient: number;
    loginLinksPerEmail: number;
    clientLimitWindowSeconds: number;
    trustProxy: boolean | number | string;
    /** Whether TRUST_PROXY was set at all (unset behind a proxy is a misconfiguration worth a warning). */
    trustProxyConfigured: boolean;
    corsOrigins: string[];
  };
  /** Where /metrics is served: its own port, and/or behind a bearer token (see METRICS_PORT). */
  metrics: { port?: number; token?: string };
  logLevel: string;
  logFormat: 'auto' | 'json' | 'pretty';
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function parseTrustProxy(value: string): boolean | number | string {
  if (/^(false|no|0|)$/i.test(value.trim())) return false;
  if (/^true$/i.test(value.trim())) return true;
  if (/^\d+$/.test(value.trim())) return Number(value);
  return value;
}

/** Names of the variables whose values must never be shown. */
export function sensitiveVariables(): string[] {
  return Reflect.getMetadata(SENSITIVE, EnvironmentVariables.prototype) ?? [];
}

/**
 * A dev secret persisted under DATA_DIR so tokens survive restarts on a laptop. Production refuses to
 * get here: validation requires the variable there.
 */
function devSecret(dataDir: string, name: string): string {
  const dir = join(dataDir, 'secrets');
  const file = join(dir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = randomBytes(48).toString('base64url');
  writeFileSync(file, value, { mode: 0o600, flag: 'wx' });
  return value;
}

/** Validates the environment and returns the one config object; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(new EnvironmentVariables())) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const key of [
    'PUBLIC_URL',
    'DATABASE_URL',
    'S3_BUCKET',
    'S3_ENDPOINT',
    'S3_ACCESS_KEY_ID',
    'S3_SECRET_ACCESS_KEY',
    'ACCESS_TOKEN_SECRET',
    'LICENSE_SIGNING_SECRET',
    'STRIPE_SECRET_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'STRIPE_CONNECT_WEBHOOK_SECRET',
    'STRIPE_API_URL',
    'TRUST_PROXY',
    'METRICS_PORT',
    'METRICS_TOKEN',
  ]) {
    if (env[key]) raw[key] = env[key] as string;
  }
  const vars = plainToInstance(EnvironmentVariables, raw, { enableImplicitConversion: false });
  const errors = validateSync(vars, { whitelist: true, forbidUnknownValues: true });
  const sensitive = new Set(sensitiveVariables());
  const problems = errors.flatMap((e) =>
    Object.values(e.constraints ?? {}).map((msg) =>
      // class-validator messages never contain the value, but say so explicitly for secrets.
      sensitive.has(e.property) ? `${e.property}: ${msg.replace(e.property, 'value')} (value hidden)` : msg,
    ),
  );
  if (vars.BLOB_STORE === 's3' && vars.S3_ACCESS_KEY_ID && !vars.S3_SECRET_ACCESS_KEY) {
    problems.push('S3_SECRET_ACCESS_KEY is required when S3_ACCESS_KEY_ID is set');
  }
  if (vars.NODE_ENV === 'production' && !vars.STRIPE_SECRET_KEY && !vars.ALLOW_LOCAL_PAYMENTS) {
    problems.push(
      'STRIPE_SECRET_KEY is required in production (or set ALLOW_LOCAL_PAYMENTS=true to take no real payments)',
    );
  }
  if (vars.METRICS_PORT && vars.METRICS_PORT === vars.PORT) {
    problems.push('METRICS_PORT must differ from PORT (it exists to keep /metrics off the public port)');
  }
  if (vars.WEB_CONCURRENCY > 1 && !vars.DATABASE_URL) {
    problems.push(
      `WEB_CONCURRENCY=${vars.WEB_CONCURRENCY} needs DATABASE_URL: the embedded database (PGlite) runs inside one process and cannot be shared by several workers (unset WEB_CONCURRENCY, or set DATABASE_URL to a Postgres server)`,
    );
  }
  if (problems.length) throw new ConfigError(problems);

  const dataDir = isAbsolute(vars.DATA_DIR) ? vars.DATA_DIR : resolve(process.cwd(), vars.DATA_DIR);
  const publicUrl = (vars.PUBLIC_URL ?? `http://localhost:${vars.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    env: vars.NODE_ENV,
    port: vars.PORT,
    host: vars.HOST,
    publicUrl,
    dataDir,
    database: {
      url: vars.DATABASE_URL,
      poolSize: vars.DATABASE_POOL_SIZE,
      migrations: vars.MIGRATIONS,
      statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    workers: vars.WEB_CONCURRENCY,
    heapGrowthPercent: vars.HEAP_GROWTH_PERCENT,
    analytics: {
      counting: vars.DOWNLOAD_COUNTING === 'on',
      retentionDays: vars.ANALYTICS_RETENTION_DAYS,
      sharingThreshold: vars.LICENSE_SHARING_THRESHOLD,
    },
    blobStore:
      vars.BLOB_STORE === 's3'
        ? {
            driver: 's3' as const,
            bucket: vars.S3_BUCKET as string,
            region: vars.S3_REGION,
            endpoint: vars.S3_ENDPOINT,
            forcePathStyle: vars.S3_FORCE_PATH_STYLE,
            accessKeyId: vars.S3_ACCESS_KEY_ID,
            secretAccessKey: vars.S3_SECRET_ACCESS_KEY,
            prefix: vars.S3_PREFIX,
          }
        : { driver: 'fs' as const, root: join(dataDir, 'blobs') },
    auth: {
      accessTokenSecret: vars.ACCESS_TOKEN_SECRET ?? devSecret(dataDir, 'access-token-secret'),
      accessTokenTtlSeconds: vars.ACCESS_TOKEN_TTL_SECONDS,
      loginMaxFailures: vars.LOGIN_MAX_FAILURES,
      loginLockoutSeconds: vars.LOGIN_LOCKOUT_SECONDS,
      hashConcurrency: vars.PASSWORD_HASH_CONCURRENCY,
      emailVerification: vars.SIGNUP_EMAIL_VERIFICATION,
      hashQueue: vars.PASSWORD_HASH_QUEUE,
    },
    uploads: {
      concurrency: vars.UPLOAD_CONCURRENCY,
      concurrencyPerPublisher: Math.min(
        vars.UPLOAD_CONCURRENCY_PER_PUBLISHER ?? Math.ceil(vars.UPLOAD_CONCURRENCY / 2),
        vars.UPLOAD_CONCURRENCY,
      ),
      idleTimeoutSeconds: vars.UPLOAD_IDLE_TIMEOUT_SECONDS,
      minBytesPerSecond: vars.UPLOAD_MIN_BYTES_PER_SECOND,
      publisherQuotaBytes: vars.PUBLISHER_QUOTA_BYTES,
      maxBytes: vars.UPLOAD_MAX_BYTES,
      maxDecompressedBytes: vars.CHART_MAX_DECOMPRESSED_BYTES,
      maxFileBytes: vars.CHART_MAX_FILE_BYTES,
      maxEntries: vars.CHART_MAX_ENTRIES,
      orphanGraceSeconds: vars.ORPHAN_BLOB_GRACE_SECONDS,
    },
    registry: {
      blobMaxBytes: vars.REGISTRY_BLOB_MAX_BYTES,
      uploadTtlSeconds: vars.REGISTRY_UPLOAD_TTL_SECONDS,
      gcGraceSeconds: vars.REGISTRY_GC_GRACE_SECONDS,
    },
    licensing: {
      signingSecret: vars.LICENSE_SIGNING_SECRET ?? devSecret(dataDir, 'license-signing-secret'),
      statusCacheSeconds: vars.LICENSE_STATUS_CACHE_SECONDS,
    },
    payments: vars.STRIPE_SECRET_KEY
      ? {
          provider: 'stripe' as const,
          stripeSecretKey: vars.STRIPE_SECRET_KEY,
          stripeWebhookSecret: vars.STRIPE_WEBHOOK_SECRET as string,
          stripeApiUrl: vars.STRIPE_API_URL,
          checkoutExpirySeconds: vars.CHECKOUT_EXPIRY_SECONDS,
        }
      : { provider: 'local' as const, checkoutExpirySeconds: vars.CHECKOUT_EXPIRY_SECONDS },
    operatorEmails: (vars.OPERATOR_EMAILS ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
    payouts: {
      mode: vars.PAYOUTS,
      feeBps: vars.PLATFORM_FEE_BPS,
      feeFixed: Object.fromEntries(
        (vars.PLATFORM_FEE_FIXED ?? '')
          .split(',')
          .filter(Boolean)
          .map((pair) => {
            const [currency, amount] = pair.split(':');
            return [currency.toLowerCase(), Number(amount)];
          }),
      ),
      refundPlatformFee: vars.REFUND_PLATFORM_FEE,
      disputeReverseTransfer: vars.DISPUTE_REVERSE_TRANSFER,
      onBehalfOf: vars.STRIPE_CONNECT_ON_BEHALF_OF,
      connectWebhookSecret: vars.STRIPE_CONNECT_WEBHOOK_SECRET,
    },
    http: {
      authFailuresPerClient: vars.AUTH_FAILURES_PER_CLIENT,
      authFailuresPerCredential: vars.AUTH_FAILURES_PER_CREDENTIAL,
      authFailureWindowSeconds: vars.AUTH_FAILURE_WINDOW_SECONDS,
      signupsPerClient: vars.SIGNUPS_PER_CLIENT,
      checkoutsPerClient: vars.CHECKOUTS_PER_CLIENT,
      loginLinksPerClient: vars.LOGIN_LINKS_PER_CLIENT,
      loginLinksPerEmail: vars.LOGIN_LINKS_PER_EMAIL,
      clientLimitWindowSeconds: vars.CLIENT_LIMIT_WINDOW_SECONDS,
      trustProxy: parseTrustProxy(vars.TRUST_PROXY ?? 'false'),
      trustProxyConfigured: vars.TRUST_PROXY !== undefined,
      corsOrigins: (vars.CORS_ORIGINS ?? '')
        .split(',')
        .map((o) => o.trim().replace(/\/+$/, ''))
        .filter(Boolean),
    },
    metrics: { port: vars.METRICS_PORT, token: vars.METRICS_TOKEN },
    mail: {
      smtpUrl: vars.SMTP_URL,
      outboxDir: join(dataDir, 'outbox'),
      from: vars.MAIL_FROM ?? `Berth <no-reply@${new URL(publicUrl).hostname}>`,
    },
    logLevel: vars.LOG_LEVEL,
    logFormat: vars.LOG_FORMAT,
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
  });
}
