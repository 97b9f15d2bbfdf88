import type { Logger as TypeOrmLogger, QueryRunner } from 'typeorm';

type WithSocket = { databaseConnection?: { connection?: { stream?: { destroy(): void } } } };

/**
 * node-postgres' `query_timeout` gives up on a statement without telling the server, and drops a
 * statement still waiting in the client's queue (a transaction's ROLLBACK, say) without ever sending it.
 * The connection would then go back to the pool inside a transaction nobody ends, and the next borrower's
 * statements (and COMMIT) would run in it. So a connection whose statement timed out is closed: the server
 * rolls its transaction back, TypeORM releases it with the error, and the pool drops it.
 *
 * TypeORM reports every failed statement to its logger with the query runner, which makes the logger the
 * one hook that sees both; this one logs nothing (the error filter already does).
 */
export class DropTimedOutConnections implements TypeOrmLogger {
  logQueryError(error: string | Error, _query: string, _parameters?: unknown[], runner?: QueryRunner): void {
    const message = typeof error === 'string' ? error : error?.message;
    if (!/Query read timeout/i.test(message ?? '')) return;
    (runner as unknown as WithSocket | undefined)?.databaseConnection?.connection?.stream?.destroy();
  }
  logQuery(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
