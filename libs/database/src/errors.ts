import { QueryFailedError, QueryRunnerAlreadyReleasedError } from 'typeorm';

/** Postgres SQLSTATE 23505: a unique constraint refused the row. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: string; constraint?: string };
  return driverError.code === '23505' && (constraint === undefined || driverError.constraint === constraint);
}

/**
 * Connection-level failures (server down, connection reset, pool timeout) and statements that ran
 * out of time (DATABASE_STATEMENT_TIMEOUT_MS: Postgres cancelled it, 57014, or the client stopped
 * waiting), rather than bad SQL: the request may succeed if retried shortly.
 */
export function isConnectionError(error: unknown): boolean {
  // TypeORM releases a query runner whose connection emits 'error' (the server ended it while it sat
  // idle inside a transaction: a fast shutdown sends 57P01 to every backend); the transaction's next
  // statement then fails with this rather than with the connection's error. Our code releases runners
  // only in `finally`, so nothing else produces it.
  if (error instanceof QueryRunnerAlreadyReleasedError) return true;
  const e = error as { code?: string; message?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  if (
    code &&
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '08001',
      '08003',
      '57014',
    ].includes(code)
  )
    return true;
  // "not queryable": the same on a bare pg client.
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Query read timeout|is not queryable|Cannot use a pool after calling end/i.test(
    e?.message ?? '',
  );
}
