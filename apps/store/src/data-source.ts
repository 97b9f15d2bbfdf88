// The TypeORM CLI's view of the schema (`npm run migration:generate|run|revert`): the same entities
// and migrations as the app, on DATABASE_URL.
import 'reflect-metadata';
import { dataSourceOptions } from '@berth/database';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../../migrations';
import { ENTITIES } from './entities';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('Set DATABASE_URL to the Postgres database the migration command should use.');

export default new DataSource(dataSourceOptions(url, 1, { entities: ENTITIES, migrations: MIGRATIONS }));
