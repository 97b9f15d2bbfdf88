import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import globalSetup from './global-setup';
import { toolPath } from './tools';

/** e2e runs the built app as users do: build it first (no-op when fresh) and demand every tool. */
export default async function e2eSetup(): Promise<void> {
  await globalSetup();
  for (const tool of ['helm3', 'helm4', 'helm-cm-push', 'minio']) toolPath(tool);
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'ensure-built.js')], {
    stdio: 'inherit',
  });
}
