import { dataSourceOptions, runMigrationsLocked } from '@berth/database';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from '../../apps/store/src/entities';
import { createTestDatabase, TestDatabase } from '../support/postgres';

describe('migrations at start', () => {
  let db: TestDatabase;
  const sources: DataSource[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(sources.filter((s) => s.isInitialized).map((s) => s.destroy()));
    await db?.drop();
  });

  it('apply once when several replicas start together, under the advisory lock', async () => {
    for (let i = 0; i < 3; i++) {
      const s = new DataSource(dataSourceOptions(db.url, 2, { entities: ENTITIES, migrations: MIGRATIONS }));
      await s.initialize();
      sources.push(s);
    }
    const applied = await Promise.all(sources.map((s) => runMigrationsLocked(s)));
    // Exactly one replica applied each migration; the others found nothing pending.
    expect(applied.flat().sort()).toEqual(MIGRATIONS.map((M) => new M().name ?? M.name).sort());
    const rows = await sources[0].query('SELECT name FROM migrations');
    expect(rows).toHaveLength(MIGRATIONS.length);
    // And the schema is the one the entities describe.
    expect(await sources[0].driver.createSchemaBuilder().log()).toMatchObject({ upQueries: [] });
  });
});
