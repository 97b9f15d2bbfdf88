import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DataSource, EntitySchema, MigrationInterface } from 'typeorm';
import { startEmbeddedPostgres, EmbeddedPostgres } from './embedded-postgres';
import { appliedMigrationsLine, runMigrationsLocked } from './migrations-runner';
import { ChangeFeed } from './change-feed';
import { RateLimitWindows } from './rate-limit-windows';
import { DropTimedOutConnections } from './timed-out-connections';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type EntityTarget = Function | EntitySchema;
type MigrationClass = new () => MigrationInterface;

export interface DatabaseModuleOptions {
  entities: EntityTarget[];
  migrations: MigrationClass[];
}

const EMBEDDED = Symbol('EMBEDDED_POSTGRES');

/** The client waits this much longer than Postgres, so a live server's own cancel (57014) comes first. */
const CLIENT_TIMEOUT_GRACE_MS = 500;

/**
 * Options shared by the app and the TypeORM CLI data source, so both see the same schema.
 * `statementTimeoutMs` (> 0) bounds every statement twice: Postgres cancels it (statement_timeout),
 * and the client gives up a little later (query_timeout) when the server cannot even do that (frozen,
 * or the network lost). Only for the pool that serves requests: migrations run without it.
 */
export function dataSourceOptions(
  url: string,
  poolSize: number,
  options: DatabaseModuleOptions,
  embedded = false,
  statementTimeoutMs = 0,
) {
  return {
    type: 'postgres' as const,
    url,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    // PGlite has no uuid-ossp; gen_random_uuid() is built into Postgres 13+ and PGlite alike.
    uuidExtension: 'pgcrypto' as const,
    synchronize: false,
    migrationsRun: false,
    ...(statementTimeoutMs > 0 ? { logger: new DropTimedOutConnections() } : {}),
    // The embedded database's single connection is held for the life of the process (idle timeout 0).
    extra: {
      max: poolSize,
      connectionTimeoutMillis: embedded ? 30000 : 5000,
      idleTimeoutMillis: embedded ? 0 : 30000,
      ...(statementTimeoutMs > 0
        ? {
            statement_timeout: statementTimeoutMs,
            query_timeout: statementTimeoutMs + CLIENT_TIMEOUT_GRACE_MS,
          }
        : {}),
    },
  };
}

class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(EMBEDDED) private readonly embedded: EmbeddedPostgres | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    const logger = new Logger('Database');
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: EMBEDDED,
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig) => {
            if (config.database.url) return null;
            const started = Date.now();
            const embedded = await startEmbeddedPostgres(config.dataDir);
            logger.log(`embedded PGlite ready under ${config.dataDir}/pg in ${Date.now() - started} ms`);
            return embedded;
          },
        },
        {
          provide: DataSource,
          inject: [APP_CONFIG, EMBEDDED],
          useFactory: async (config: AppConfig, embedded: EmbeddedPostgres | null) => {
            const url = config.database.url ?? (embedded as EmbeddedPostgres).url;
            // The embedded database lives in this process: it cannot freeze apart from it, and its one
            // connection serialises every statement, so a timeout would only cut slow laptops short.
            const pool = embedded ? 1 : config.database.poolSize;
            const timeout = embedded ? 0 : config.database.statementTimeoutMs;
            const dataSource = new DataSource(
              dataSourceOptions(url, pool, options, embedded !== null, timeout),
            );
            await dataSource.initialize();
            if (config.database.migrations === 'run') {
              // A migration, or waiting for another replica's, may take longer than any request should:
              // with a timeout, on a connection of its own that has none.
              const migrator =
                timeout > 0 ? new DataSource(dataSourceOptions(url, 1, options, false)) : dataSource;
              if (migrator !== dataSource) await migrator.initialize();
              try {
                const applied = await runMigrationsLocked(migrator);
                if (applied.length) logger.log(appliedMigrationsLine(applied));
              } finally {
                if (migrator !== dataSource) await migrator.destroy();
              }
            } else if (config.workers > 1) {
              // A cluster worker: its primary applied them (under the same lock) before forking it.
              logger.debug('not applying migrations: the cluster primary does that before it forks workers');
            } else {
              logger.warn('MIGRATIONS=skip: not applying migrations at start');
            }
            return dataSource;
          },
        },
        DatabaseLifecycle,
        ChangeFeed,
        RateLimitWindows,
      ],
      exports: [DataSource, ChangeFeed, RateLimitWindows],
    };
  }
}
