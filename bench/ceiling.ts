import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePorts } from '../test/support/minio';
import { onCleanup, trackChild } from './lifecycle';
import { BenchFailure, firstOk, http } from './load';

/**
 * Ceilings: servers that do nothing but send bytes, measured with the same wrk, connections and pinning
 * as Berth on exactly the bytes Berth answered (fetched once, written to files under the same URL paths,
 * so the scenario's own wrk script runs against them unchanged). They say what bounds a figure:
 *
 * - `node`: a bare `node:http` server answering each path from memory, no routing, auth, logging or
 *   database: the least any Node server can do per response.
 * - `nginx`: nginx, one worker, sendfile, access log off: what a static file server does on one core.
 *
 * Both ignore the method and the headers (nginx answers a POST to a file with the file, via
 * `error_page 405 =200`), so a scenario's request runs as it is.
 */
const NODE_SERVER = `
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

const NGINX_HINT =
  'nginx is missing: the bench measures an nginx ceiling. Install the Debian package `nginx-light` ' +
  '(scripts/install-tools.sh does, as root with apt-get); the bench runs its own instance with its own ' +
  'configuration and port, never the system service.';

export type CeilingName = 'node' | 'nginx';
export const CEILINGS: readonly CeilingName[] = ['node', 'nginx'];

export interface CeilingServer {
  name: CeilingName;
  url: string;
  pid(): number;
}

export interface Ceilings {
  servers: Record<CeilingName, CeilingServer>;
  close(): Promise<void>;
}

/** The nginx binary (PATH, then Debian's /usr/sbin), or a failure with the way to get it. */
export function nginxBinary(): string {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    const r = spawnSync(candidate, ['-v'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return candidate;
  }
  throw new BenchFailure(NGINX_HINT);
}

function nginxConf(dir: string, www: string, port: number): string {
  const tmp = join(dir, 'tmp');
  return `daemon off;
master_process off;
worker_processes 1;
error_log stderr warn;
pid ${join(dir, 'nginx.pid')};
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  default_type application/octet-stream;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    error_page 405 =200 $uri;
  }
}
`;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
}

/** Serves `files` (URL path → bytes) from a bare node:http server and from nginx until closed. */
export async function startCeilings(files: Map<string, Buffer>): Promise<Ceilings> {
  const nginx = nginxBinary();
  const dir = await mkdtemp(join(tmpdir(), 'berth-ceiling-'));
  const releases: Array<() => Promise<void>> = [];
  const close = async () => {
    while (releases.length) await releases.pop()!();
  };
  releases.push(onCleanup(`remove ${dir}`, () => rm(dir, { recursive: true, force: true })));
  try {
    const www = join(dir, 'www');
    const manifest: Record<string, string> = {};
    for (const [path, bytes] of files) {
      if (!path.startsWith('/') || path.includes('..') || path.includes('?'))
        throw new BenchFailure(`ceiling: cannot serve ${path} as a file`);
      const file = join(www, path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, bytes);
      manifest[path] = file;
    }
    await mkdir(join(dir, 'tmp'), { recursive: true });
    await writeFile(join(dir, 'files.json'), JSON.stringify(manifest));
    const [nodePort, nginxPort] = await freePorts(2);
    await writeFile(join(dir, 'nginx.conf'), nginxConf(dir, www, nginxPort));

    const start = (name: CeilingName, cmd: string, args: string[], port: number) => {
      let tail = '';
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      trackChild(child);
      const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-2000));
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      releases.push(onCleanup(`stop ${name} ceiling`, stopper(child)));
      return {
        server: { name, url: `http://127.0.0.1:${port}`, pid: () => child.pid! },
        tail: () => tail,
      };
    };
    const node = start(
      'node',
      process.execPath,
      ['-e', NODE_SERVER, join(dir, 'files.json'), String(nodePort)],
      nodePort,
    );
    const ngx = start('nginx', nginx, ['-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')], nginxPort);

    // Both must answer every path with exactly the bytes given.
    for (const s of [node, ngx]) {
      const [first] = files.keys();
      if ((await firstOk(s.server.url + first, performance.now(), 30_000)) === null)
        throw new BenchFailure(`the ${s.server.name} ceiling did not answer within 30 s:\n${s.tail()}`);
      for (const [path, bytes] of files) {
        const r = await http(s.server.url + path);
        if (r.status !== 200 || !r.body.equals(bytes))
          throw new BenchFailure(
            `the ${s.server.name} ceiling answers ${path} with ${r.status}, not the bytes given`,
          );
      }
    }
    return { servers: { node: node.server, nginx: ngx.server }, close };
  } catch (e) {
    await close();
    throw e;
  }
}
