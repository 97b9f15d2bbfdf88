import { DataSource, MigrationExecutor } from 'typeorm';

/** An arbitrary constant shared by every Berth replica: the advisory lock key for migrations. */
const MIGRATION_LOCK_KEY = 0x62657274; // "bert"

/**
 * Runs pending migrations while holding a session-level advisory lock, so that replicas starting
 * together apply each migration once. The lock, the migrations and the unlock share one connection,
 * which also keeps the single-connection embedded database from deadlocking.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** The start log's line for what was applied: a fresh database gets every migration, so name the last only. */
export function appliedMigrationsLine(applied: string[]): string {
  return applied.length === 1
    ? `applied migrations: ${applied[0]}`
    : `applied migrations: ${applied.length}, the last ${applied[applied.length - 1]}`;
}
