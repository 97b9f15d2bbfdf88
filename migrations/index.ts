// Every migration, in order. `npm run migration:generate -- migrations/<Name>` writes a new file:
// add its class here (CI's migration check fails until entities and this list agree).
import type { MigrationInterface } from 'typeorm';

export const MIGRATIONS: Array<new () => MigrationInterface> = [];
