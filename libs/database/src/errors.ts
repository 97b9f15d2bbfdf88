import { QueryFailedError } from 'typeorm';

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
      '57P03',
      '08006',
      '08001',
      '08003',
      '57014',
    ].includes(code)
  )
    return true;
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Query read timeout/i.test(
    e?.message ?? '',
  );
}
