import { execFile } from 'node:child_process';
import { constants as fsConstants, accessSync } from 'node:fs';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';

/** The repository's tool folder, filled by scripts/install-tools.sh (`npm run tools`). */
export const TOOLS_BIN = resolve(__dirname, '..', '..', '.tools', 'bin');

/** The hint every missing-tool failure carries. */
export const INSTALL_TOOLS_HINT = 'run `npm run tools` (scripts/install-tools.sh)';

/**
 * Absolute path of `.tools/bin/<name>` (helm3, helm4, helm-cm-push, minio, stripe-mock). A missing or
 * non-executable tool throws, so a suite that needs it fails loudly instead of skipping.
 */
export function toolPath(name: string): string {
  const path = join(TOOLS_BIN, name);
  try {
    accessSync(path, fsConstants.X_OK); // follows the symlink, so a dangling link counts as missing
  } catch {
    throw new Error(
      `Test tool "${name}" is missing (${path}): ${INSTALL_TOOLS_HINT}, ` +
        `or \`bash scripts/install-tools.sh ${name}\` for just this one.`,
    );
  }
  return path;
}

/** What a command-line tool did: its exit code and its output. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

const execFileP = promisify(execFile);

/** Runs a tool; never throws on a non-zero exit, so tests can assert failures too. */
export async function runTool(
  bin: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await execFileP(bin, args, {
      env: opts.env,
      cwd: opts.cwd,
      timeout: opts.timeoutMs ?? 120_000,
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

/** Like runTool, but a non-zero exit fails with the tool's own output. */
export function okOutput(name: string, args: string[], r: ToolResult): string {
  if (r.code !== 0)
    throw new Error(`${name} ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
