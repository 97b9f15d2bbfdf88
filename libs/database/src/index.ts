export * from './database.module';
export * from './embedded-postgres';
export * from './migrations-runner';
export * from './errors';
export * from './change-feed';
export * from './rate-limit-windows';
export * from './returned-rows';
