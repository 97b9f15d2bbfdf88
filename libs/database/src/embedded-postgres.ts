import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/** Unix socket paths are limited to ~107 bytes; beyond that fall back to loopback TCP. */
const MAX_SOCKET_PATH = 100;

/**
 * PGlite (Postgres compiled to WASM) persisted under `<dataDir>/pg`, served over the Postgres wire
 * protocol so that the same `pg` driver, TypeORM and migrations serve laptop and production. It has no
 * authentication, so it listens on a Unix socket in a 0700 folder of the data dir (only this user can
 * connect), not on a TCP port. PGlite is single-connection: callers keep their pool at one connection
 * and never let it go idle (a released slot could be taken by another local process).
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = join(dataDir, 'pg');
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create({ dataDir: dir });
  const socketDir = join(dataDir, 'pg-socket');
  const socketPath = join(socketDir, '.s.PGSQL.5432');
  let server: PGLiteSocketServer;
  let url: string;
  if (socketPath.length <= MAX_SOCKET_PATH) {
    mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    chmodSync(socketDir, 0o700);
    rmSync(socketPath, { force: true }); // left by a killed process
    server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 1 });
    await server.start();
    url = `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}`;
  } else {
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    url = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  }
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
