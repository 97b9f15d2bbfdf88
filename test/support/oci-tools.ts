import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { okOutput, runTool, ToolResult, toolPath } from './tools';

/**
 * One OCI client binary (crane, oras, regctl, skopeo) with its own empty home and credential store, so
 * a login of one test never leaks into another. It runs in its home: relative paths are under it.
 */
export class OciTool {
  readonly bin: string;
  readonly home = mkdtempSync(join(tmpdir(), 'berth-oci-'));

  constructor(readonly name: 'crane' | 'oras' | 'regctl' | 'skopeo' | 'ctr') {
    this.bin = name === 'skopeo' ? '/usr/bin/skopeo' : toolPath(name);
    if (name === 'skopeo' && !existsSync(this.bin)) {
      throw new Error('skopeo is missing: run `npm run tools` (installs the Debian skopeo package as root)');
    }
  }

  run(...args: string[]): Promise<ToolResult> {
    return runTool(this.bin, args, {
      env: {
        PATH: process.env.PATH,
        HOME: this.home,
        DOCKER_CONFIG: join(this.home, 'docker'),
        TMPDIR: tmpdir(),
      },
      cwd: this.home,
      timeoutMs: 240_000,
    });
  }

  async ok(...args: string[]): Promise<string> {
    return okOutput(this.name, args, await this.run(...args));
  }
}

export interface Containerd {
  socket: string;
  stop(): Promise<void>;
}

/**
 * A containerd daemon of the test's own (config, root, state, sockets in a temp dir), unpacking with the
 * native snapshotter: pulls and unpacks work without runc or overlayfs. Needs root, as containerd does.
 */
export async function startContainerd(): Promise<Containerd> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-containerd-'));
  const socket = join(dir, 'containerd.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 3',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      '[[plugins."io.containerd.transfer.v1.local".unpack_config]]',
      '  platform = "linux/amd64"',
      '  snapshotter = "native"',
      '  differ = "walking"',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(toolPath('containerd'), ['--config', join(dir, 'config.toml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const deadline = Date.now() + 30_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`containerd did not start (root is required):\n${output.join('').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    socket,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
