import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePorts } from '../test/support/minio';
import { ROOT } from '../test/support/store-process';
import { toolPath } from '../test/support/tools';
import { onCleanup, trackChild } from './lifecycle';
import { basic, BenchFailure, firstOk, http, pool } from './load';
import type { ChartFile } from './synthetic';

export const CM_USER = 'bench';

/**
 * A cold index over 100k archives can take ChartMuseum minutes, and it reads its storage before it answers
 * even /health; past this it is reported as a timeout.
 */
export const CM_STARTUP_TIMEOUT_MS = 10 * 60_000;

export interface ChartMuseum {
  url: string;
  password: string;
  version: string;
  pid(): number;
  /** Kill and start again on the same storage; ms until index.yaml answers 200, or null past the timeout. */
  restart(): Promise<number | null>;
  close(): Promise<void>;
}

/** `.tools/bin/chartmuseum`, built on demand (only the comparison needs it). */
export function chartMuseumBinary(log: (line: string) => void): string {
  try {
    return toolPath('chartmuseum');
  } catch {
    log('chartmuseum missing: running scripts/install-tools.sh chartmuseum');
    try {
      execFileSync('bash', [join(ROOT, 'scripts/install-tools.sh'), 'chartmuseum'], {
        stdio: 'inherit',
        cwd: ROOT,
      });
    } catch (e) {
      throw new BenchFailure(
        `scripts/install-tools.sh chartmuseum failed (${(e as Error).message}); --vs chartmuseum needs it`,
      );
    }
    return toolPath('chartmuseum');
  }
}

/**
 * Copies the archives into ChartMuseum's storage before it starts: pushing tens of thousands of files
 * through its API would take far longer than the measurement, and the files are byte-identical.
 */
export async function fillStorage(dir: string, files: readonly ChartFile[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await pool(files, 16, (f) => copyFile(f.path, join(dir, basename(f.path))));
}

/**
 * ChartMuseum with local storage and its defaults, except Basic auth, with anonymous GET (`anonymousGet`)
 * for the free repository: the anonymous index is what a public Helm repository serves, and uploads need
 * a credential as Berth's do. Without it every read needs the credential, as a licensed repository does.
 */
export async function startChartMuseum(
  binary: string,
  storageDir: string,
  { anonymousGet }: { anonymousGet: boolean },
): Promise<ChartMuseum> {
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  const password = randomBytes(12).toString('hex');
  const authorization = anonymousGet ? undefined : basic(CM_USER, password);
  const printed = execFileSync(binary, ['--version']).toString();
  const version = /v\d+\.\d+\.\d+\S*/.exec(printed)?.[0] ?? printed.trim();
  const args = [
    '--port', String(port),
    '--listen-host', '127.0.0.1',
    '--storage', 'local',
    '--storage-local-rootdir', storageDir,
    '--basic-auth-user', CM_USER,
    '--basic-auth-pass', password,
    ...(anonymousGet ? ['--auth-anonymous-get'] : []),
  ]; // prettier-ignore
  let child: ChildProcess;
  let tail = '';
  const launch = () => {
    child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    // It logs every request at info level with no switch to quieten it; keep only a tail for errors.
    const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  launch();
  const release = onCleanup('stop chartmuseum', stop);
  const health = await firstOk(`${url}/health`, performance.now(), CM_STARTUP_TIMEOUT_MS);
  if (health === null) {
    await release();
    throw new BenchFailure(
      `chartmuseum did not answer /health within ${CM_STARTUP_TIMEOUT_MS / 1000} s:\n${tail}`,
    );
  }
  return {
    url,
    password,
    version,
    pid: () => child.pid!,
    async restart() {
      await stop();
      const t0 = performance.now();
      launch();
      return firstOk(`${url}/index.yaml`, t0, CM_STARTUP_TIMEOUT_MS, authorization);
    },
    close: release,
  };
}

/** How many times `needle` occurs in `haystack`. */
export function occurrences(haystack: Buffer, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

/**
 * ChartMuseum builds its index on the first request for it, reading every archive in its storage: ask for
 * it until it lists all `expected` versions, so that no measurement includes that first build. Returns ms.
 */
export async function warmIndex(cm: ChartMuseum, expected: number, authorization?: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const r = await http(`${cm.url}/index.yaml`, {
      headers: authorization ? { authorization } : {},
      timeoutMs: CM_STARTUP_TIMEOUT_MS,
    });
    const listed = r.status === 200 ? occurrences(r.body, '.tgz') : -1;
    if (listed === expected) return Math.round(performance.now() - t0);
    if (performance.now() - t0 > CM_STARTUP_TIMEOUT_MS)
      throw new BenchFailure(
        `chartmuseum index: ${r.status}, ${listed} versions listed ${CM_STARTUP_TIMEOUT_MS / 60_000} min after ` +
          `start where ${expected} were copied into its storage`,
      );
    await new Promise((res) => setTimeout(res, 200));
  }
}
