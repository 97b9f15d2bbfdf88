import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { okOutput, runTool, ToolResult, TOOLS_BIN, toolPath } from './tools';

export type HelmResult = ToolResult;

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
  run(...args: string[]): Promise<HelmResult> {
    return runTool(this.bin, args, { env: this.env() });
  }

  /** Like run, but a non-zero exit fails with helm's own output. */
  async ok(...args: string[]): Promise<string> {
    return okOutput(this.version, args, await this.run(...args));
  }
}
