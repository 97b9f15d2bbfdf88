import { AppConfig } from '@berth/config';

/** What the start line says about the store, whether one process serves or a cluster primary speaks for all. */
export function startFields(config: AppConfig, port: number) {
  return {
    port,
    publicUrl: config.publicUrl,
    database: config.database.url ? 'postgres' : 'embedded',
    blobStore: config.blobStore.driver,
    // Counted in the database, so every replica and worker enforces the same totals; hashing is bounded
    // per process.
    limits: {
      authFailuresPerClient: config.http.authFailuresPerClient,
      authFailuresPerCredential: config.http.authFailuresPerCredential,
      loginMaxFailures: config.auth.loginMaxFailures,
      signupsPerClient: config.http.signupsPerClient,
      checkoutsPerClient: config.http.checkoutsPerClient,
      loginLinksPerClient: config.http.loginLinksPerClient,
      loginLinksPerEmail: config.http.loginLinksPerEmail,
      passwordHashConcurrency: config.auth.hashConcurrency,
    },
  };
}

/** One machine-readable line for scripts and tests that start the server on port 0 (not on a terminal). */
export function writeListeningEvent(port: number): void {
  if (process.stdout.isTTY) return;
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
}
