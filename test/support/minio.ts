import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { toolPath } from './tools';

export interface MinioServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** A bucket that already exists. */
  bucket: string;
  region: string;
  /** Kills the server and removes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The store's environment for the S3 blob driver on this MinIO. */
export function s3StoreEnv(minio: MinioServer): Record<string, string> {
  return {
    BLOB_STORE: 's3',
    S3_BUCKET: minio.bucket,
    S3_ENDPOINT: minio.endpoint,
    S3_REGION: minio.region,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: minio.accessKey,
    S3_SECRET_ACCESS_KEY: minio.secretKey,
  };
}

const STARTUP_TIMEOUT_MS = 30_000;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts a throwaway MinIO (`.tools/bin/minio`, built by scripts/install-tools.sh) on free loopback
 * ports with a fresh data directory, waits until it is live and creates one bucket. Throws (never
 * skips) when the binary is missing or the server does not come up.
 */
export async function startMinio(): Promise<MinioServer> {
  const binary = toolPath('minio');
  const [port, consolePort] = await freePorts(2);
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-minio-'));
  const accessKey = `berth${randomBytes(4).toString('hex')}`;
  const secretKey = randomBytes(18).toString('hex');
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';

  const child = spawn(
    binary,
    [
      'server',
      dataDir,
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      '--quiet',
    ],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dataDir,
        MINIO_ROOT_USER: accessKey,
        MINIO_ROOT_PASSWORD: secretKey,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
        MINIO_CI_CD: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  trackForExit(child);
  let output = '';
  const collect = (data: Buffer) => {
    output = (output + data.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kill(child, exited);
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    await waitUntilLive(endpoint, exited, () => output);
    const client = new S3Client({
      endpoint,
      region,
      forcePathStyle: true,
      credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    });
    const bucket = `berth-test-${randomBytes(4).toString('hex')}`;
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
    return { endpoint, accessKey, secretKey, bucket, region, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitUntilLive(
  endpoint: string,
  exited: Promise<number | null>,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`MinIO exited with code ${exitCode} before it was live:\n${output()}`);
    }
    try {
      const res = await fetch(`${endpoint}/minio/health/live`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`MinIO did not become live within ${STARTUP_TIMEOUT_MS} ms:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function kill(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  live.delete(child);
}

/** Ports the OS hands out for an ephemeral listen, released before returning (a small race, fine for tests). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** If the test process dies without calling stop(), do not leave MinIO running. */
function trackForExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** A MinIO the test can fault: signal its process (SIGKILL, SIGSTOP/SIGCONT) and start it again on the same port and data. */
export interface FaultableMinio extends MinioServer {
  /** The running server's pid (changes after `restart`). */
  pid(): number | undefined;
  /** Sends `signal` to the server process; for SIGKILL/SIGTERM resolves once it has exited. */
  signal(signal: NodeJS.Signals): Promise<void>;
  /** Starts the server again (same port, credentials and data directory) once it is dead; resolves when live. */
  restart(): Promise<void>;
}

/**
 * Like `startMinio`, but the process can be killed, frozen and restarted with its data kept, for fault
 * injection. `stop()` resumes a frozen server before stopping it.
 */
export async function startFaultableMinio(): Promise<FaultableMinio> {
  const binary = toolPath('minio');
  const [port, consolePort] = await freePorts(2);
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-minio-'));
  const accessKey = `berth${randomBytes(4).toString('hex')}`;
  const secretKey = randomBytes(18).toString('hex');
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  let output = '';
  let child!: ChildProcess;
  let exited!: Promise<number | null>;

  const spawnServer = async () => {
    child = spawn(
      binary,
      [
        'server',
        dataDir,
        '--address',
        `127.0.0.1:${port}`,
        '--console-address',
        `127.0.0.1:${consolePort}`,
        '--quiet',
      ],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: dataDir,
          MINIO_ROOT_USER: accessKey,
          MINIO_ROOT_PASSWORD: secretKey,
          MINIO_BROWSER: 'off',
          MINIO_UPDATE: 'off',
          MINIO_CI_CD: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    trackForExit(child);
    const collect = (data: Buffer) => {
      output = (output + data.toString()).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const c = child;
    exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
    await waitUntilLive(endpoint, exited, () => output);
  };

  let stopped = false;
  const server: FaultableMinio = {
    endpoint,
    accessKey,
    secretKey,
    bucket: `berth-test-${randomBytes(4).toString('hex')}`,
    region,
    pid: () => (child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    async signal(signal: NodeJS.Signals) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited;
    },
    async restart() {
      if (child.exitCode === null && child.signalCode === null) throw new Error('MinIO is still running');
      await spawnServer();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
      await kill(child, exited);
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  try {
    await spawnServer();
    const client = new S3Client({
      endpoint,
      region,
      forcePathStyle: true,
      credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    });
    try {
      await client.send(new CreateBucketCommand({ Bucket: server.bucket }));
    } finally {
      client.destroy();
    }
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}
