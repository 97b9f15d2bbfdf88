import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePorts } from '../test/support/minio';
import { onCleanup, trackChild } from './lifecycle';
import { BenchFailure, firstOk } from './load';

/**
 * The least any Node server can do for a response: a bare `node:http` server answering each path with
 * bytes already in memory, no routing, auth, logging or database. Measured with the same load as Berth,
 * it tells what bounds a figure: where Berth is close to it, the loopback copy and the load generator
 * are the limit, not Berth; the gap to it is Berth's own per-request cost.
 */
const SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const files = new Map(Object.entries(JSON.parse(fs.readFileSync(process.argv[1], 'utf8'))).map(([p, f]) => [p, fs.readFileSync(f)]));
http.createServer((req, res) => {
  const body = files.get(req.url);
  if (!body) { res.statusCode = 404; return res.end(); }
  res.setHeader('Content-Length', body.length);
  res.end(body);
}).listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

export interface Ceiling {
  url: string;
  pid(): number;
  close(): Promise<void>;
}

/** Serves `files` (URL path → bytes) from memory until closed. */
export async function startCeiling(files: Record<string, Buffer>): Promise<Ceiling> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-ceiling-'));
  const paths: Record<string, string> = {};
  let i = 0;
  for (const [path, bytes] of Object.entries(files)) {
    paths[path] = join(dir, `file-${i++}`);
    await writeFile(paths[path], bytes);
  }
  const manifest = join(dir, 'files.json');
  await writeFile(manifest, JSON.stringify(paths));
  const [port] = await freePorts(1);
  const child: ChildProcess = spawn(process.execPath, ['-e', SERVER, manifest, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  trackChild(child);
  const release = onCleanup('stop ceiling server', async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  const [first] = Object.keys(files);
  if ((await firstOk(url + first, performance.now(), 30_000)) === null) {
    await release();
    throw new BenchFailure('the ceiling server did not answer within 30 s');
  }
  return { url, pid: () => child.pid!, close: release };
}
