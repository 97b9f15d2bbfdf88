import { constants as fsConstants, accessSync } from 'node:fs';
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
