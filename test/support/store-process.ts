import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts } from './minio';

export const ROOT = resolve(__dirname, '..', '..');
export const MAIN = join(ROOT, 'dist/apps/store/src/main.js');

export interface StoreProcess {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Every line the process wrote to stdout and stderr, for log assertions. */
  output: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the built app exactly as `npm start` does (`node dist/apps/store/src/main.js`) with the given
 * environment, and resolves once it prints its listening line.
 */
export async function startStore(
  env: Record<string, string | undefined> = {},
  timeoutMs = 60_000,
  main: string = MAIN,
): Promise<StoreProcess> {
  const port = env.PORT ? Number(env.PORT) : (await freePorts(1))[0];
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'berth-e2e-data-'));
  const url = `http://127.0.0.1:${port}`;
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: url,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    // Suites sign up and check out many times from one address; limits-hardening tests the limits.
    SIGNUPS_PER_CLIENT: '100000',
    CHECKOUTS_PER_CLIENT: '100000',
    // Sign-ups are usable at once; account-mail tests the confirmation mail and its link.
    SIGNUP_EMAIL_VERIFICATION: 'off',
    ...env,
  })) {
    if (v !== undefined) childEnv[k] = v;
  }
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  await new Promise<void>((resolveStart, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`store did not start in ${timeoutMs} ms:\n${output.join('\n')}`)),
      timeoutMs,
    );
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        output.push(line);
        if (line.includes('"event":"listening"')) {
          clearTimeout(timer);
          resolveStart();
        }
      }
    };
    child.stdout?.on('data', onLine);
    child.stderr?.on('data', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`store exited with ${code} before listening:\n${output.join('\n')}`));
    });
  });
  return {
    url,
    port,
    dataDir,
    child,
    output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

export interface BuildSnapshot {
  /** The snapshot's `main.js`, for `startStore(env, timeout, main)`. */
  main: string;
  remove(): void;
}

/**
 * A private copy of the built app (`dist/`, with `node_modules` linked), so that a suite which restarts
 * the store keeps running the same build while someone else rebuilds the shared working tree (the Nest
 * build empties `dist/` first). Waits for a build in progress to settle before copying.
 */
export async function snapshotBuild(timeoutMs = 120_000): Promise<BuildSnapshot> {
  const dist = join(ROOT, 'dist');
  const fingerprint = () => {
    let n = 0;
    let newest = 0;
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else {
          n++;
          newest = Math.max(newest, statSync(p).mtimeMs);
        }
      }
    };
    walk(dist);
    return `${n}:${newest}`;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (existsSync(MAIN)) {
        const before = fingerprint();
        await new Promise((r) => setTimeout(r, 1000));
        if (existsSync(MAIN) && fingerprint() === before) {
          const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-build-'));
          cpSync(dist, join(dir, 'dist'), { recursive: true });
          symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
          if (fingerprint() === before) {
            return {
              main: join(dir, 'dist/apps/store/src/main.js'),
              remove: () => rmSync(dir, { recursive: true, force: true }),
            };
          }
          rmSync(dir, { recursive: true, force: true });
        }
      }
    } catch {
      // dist/ changed under us (a concurrent build): try again
    }
    if (Date.now() > deadline)
      throw new Error(`no stable build under ${dist} within ${timeoutMs} ms (run \`npm run build\`)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
