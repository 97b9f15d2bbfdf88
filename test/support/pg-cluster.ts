import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePorts } from './minio';

const execFileP = promisify(execFile);

/** `pg_ctl stop -m …`: smart waits for clients, fast disconnects them, immediate kills the server (crash recovery on start). */
export type StopMode = 'smart' | 'fast' | 'immediate';

export interface PgCluster {
  /** Postgres URL of the `postgres` database over loopback TCP. */
  url: string;
  port: number;
  /** The cluster's base folder (data directory, socket and server log below it). */
  dir: string;
  dataDir: string;
  /** `pg_ctl start -w`: resolves once the server accepts connections. */
  start(): Promise<void>;
  /** `pg_ctl stop -m <mode> -w`. */
  stop(mode?: StopMode): Promise<void>;
  restart(mode?: StopMode): Promise<void>;
  /** Whether `pg_ctl status` reports a running server. */
  running(): Promise<boolean>;
  /** A new database in this cluster; its URL. */
  createDatabase(name: string): Promise<string>;
  /**
   * SIGSTOPs the postmaster and every backend (stopping only the postmaster leaves sessions served):
   * connections stay open and nothing answers. Returns the function that resumes them all.
   */
  freeze(): () => void;
  /** The server log (everything postgres wrote since the cluster was made). */
  log(): string;
  /** Stops the server (immediate) and removes every file. Safe to call twice, and after a failed start. */
  destroy(): Promise<void>;
}

/** Clusters not destroyed yet: stopped synchronously if the test process exits without cleaning up. */
const live = new Set<string>();
let exitHookInstalled = false;

/** postgres refuses to run as root: when we are root, run its tools as the `postgres` OS user. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

async function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const [file, argv] = asPostgres(cmd, args);
  try {
    const { stdout, stderr } = await execFileP(file, argv, { timeout: timeoutMs });
    return `${stdout}${stderr}`;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
  }
}

/**
 * A private, throwaway PostgreSQL cluster (initdb + pg_ctl from PATH) on a free loopback port, for
 * tests that stop and start the server (the machine's shared server must never be stopped). Trust
 * auth, user `postgres`, Unix socket in the cluster's own folder. Throws (never skips) when the
 * binaries are missing.
 */
export async function startPgCluster(
  options: { settings?: Record<string, string> } = {},
): Promise<PgCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (userInfo().uid === 0) {
    const pg = execFileSync('id', ['-u', 'postgres']).toString().trim();
    const pgGroup = execFileSync('id', ['-g', 'postgres']).toString().trim();
    chownSync(dir, Number(pg), Number(pgGroup));
  }
  const [port] = await freePorts(1);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    max_connections: '50',
    shared_buffers: '16MB',
    ...options.settings,
  };
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  const pgCtl = (...args: string[]) => run('pg_ctl', ['-D', dataDir, ...args]);

  let destroyed = false;
  const cluster: PgCluster = {
    url,
    port,
    dir,
    dataDir,
    async start() {
      await pgCtl('-o', serverOptions, '-l', logFile, '-w', '-t', '60', 'start');
    },
    async stop(mode: StopMode = 'fast') {
      await pgCtl('-m', mode, '-w', '-t', '60', 'stop');
    },
    async restart(mode: StopMode = 'fast') {
      await cluster.stop(mode);
      await cluster.start();
    },
    async running() {
      const [file, argv] = asPostgres('pg_ctl', ['-D', dataDir, 'status']);
      return execFileP(file, argv).then(
        () => true,
        () => false,
      );
    },
    async createDatabase(name: string) {
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    log() {
      return existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    },
    freeze() {
      const pids = clusterPids(dataDir);
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      return () => {
        for (const pid of pids) process.kill(pid, 'SIGCONT');
      };
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      if (existsSync(join(dataDir, 'postmaster.pid'))) {
        await pgCtl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
      }
      live.delete(dataDir);
      rmSync(dir, { recursive: true, force: true });
    },
  };

  trackForExit(dataDir);
  try {
    await run('initdb', [
      '-D',
      dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    await cluster.start();
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

/** The postmaster of `dataDir` and every backend it forked. */
function clusterPids(dataDir: string): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)])
    .toString()
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
  return [postmaster, ...children];
}

/** If the test process dies without calling destroy(), do not leave a postmaster running. */
function trackForExit(dataDir: string): void {
  live.add(dataDir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const d of live) {
      if (!existsSync(join(d, 'postmaster.pid'))) continue;
      const [file, argv] = asPostgres('pg_ctl', ['-D', d, '-m', 'immediate', 'stop']);
      try {
        execFileSync(file, argv, { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // best effort
      }
    }
  });
}
