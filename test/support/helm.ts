import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TOOLS_BIN, toolPath } from './tools';

const run = promisify(execFile);

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The pinned Helm v3 and v4, and the newest releases the module proxy serves (`-next`). */
export type HelmBinary = 'helm3' | 'helm4' | 'helm3-next' | 'helm4-next';

/** The real Helm client (v3 or v4) with its own empty config, cache and data dirs. */
export class Helm {
  readonly bin: string;
  readonly home = mkdtempSync(join(tmpdir(), 'berth-helm-'));

  constructor(readonly version: HelmBinary) {
    this.bin = toolPath(version);
  }

  /** A kubeconfig for commands that ask a cluster (Helm 3's `install --dry-run=client`). */
  kubeconfig?: string;

  env(): NodeJS.ProcessEnv {
    return {
      ...(this.kubeconfig ? { KUBECONFIG: this.kubeconfig } : {}),
      PATH: `${TOOLS_BIN}:${process.env.PATH}`,
      HOME: this.home,
      HELM_CACHE_HOME: join(this.home, 'cache'),
      HELM_CONFIG_HOME: join(this.home, 'config'),
      HELM_DATA_HOME: join(this.home, 'data'),
      HELM_PLUGINS: join(TOOLS_BIN, '..', 'helm-plugins'),
    };
  }

  /** Runs helm; never throws on a non-zero exit, so tests can assert failures too. */
  async run(...args: string[]): Promise<HelmResult> {
    try {
      const { stdout, stderr } = await run(this.bin, args, {
        env: this.env(),
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof err.code === 'number' ? err.code : 1,
        stdout: err.stdout ?? '',
        stderr: err.stderr ?? String(e),
      };
    }
  }

  /** Like run, but a non-zero exit fails with helm's own output. */
  async ok(...args: string[]): Promise<string> {
    const r = await this.run(...args);
    if (r.code !== 0)
      throw new Error(`${this.version} ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }
}
