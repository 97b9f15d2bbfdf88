import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DataSource, EntitySchema, MigrationInterface } from 'typeorm';
import { startEmbeddedPostgres, EmbeddedPostgres } from './embedded-postgres';
import { runMigrationsLocked } from './migrations-runner';
import { ChangeFeed } from './change-feed';
import { RateLimitWindows } from './rate-limit-windows';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type EntityTarget = Function | EntitySchema;
type MigrationClass = new () => MigrationInterface;

export interface DatabaseModuleOptions {
  entities: EntityTarget[];
  migrations: MigrationClass[];
}

const EMBEDDED = Symbol('EMBEDDED_POSTGRES');

/** Options shared by the app and the TypeORM CLI data source, so both see the same schema. */
export function dataSourceOptions(
  url: string,
  poolSize: number,
  options: DatabaseModuleOptions,
  embedded = false,
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
    // The embedded database's single connection is held for the life of the process (idle timeout 0).
    extra: {
      max: poolSize,
      connectionTimeoutMillis: embedded ? 30000 : 5000,
      idleTimeoutMillis: embedded ? 0 : 30000,
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
            const pool = embedded ? 1 : config.database.poolSize;
            const dataSource = new DataSource(dataSourceOptions(url, pool, options, embedded !== null));
            await dataSource.initialize();
            if (config.database.migrations === 'run') {
              const applied = await runMigrationsLocked(dataSource);
              if (applied.length) logger.log(`applied migrations: ${applied.join(', ')}`);
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
