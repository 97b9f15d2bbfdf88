import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Full-text search over the storefront: one GIN expression index over a chart's name (weight A), keywords
 * (B) and description (C) with the `simple` configuration (no stemming dictionaries: the embedded PGlite
 * has none, and chart names are not English words). `array_to_string` is only STABLE, so the keywords go
 * through an IMMUTABLE wrapper (true for text[]) that an index expression may use. The query repeats this
 * expression exactly (`CHART_SEARCH_DOCUMENT` in libs/catalog) so the planner can use the index.
 */
export class ChartSearch1796240000001 implements MigrationInterface {
  name = 'ChartSearch1796240000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE FUNCTION berth_words(text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT array_to_string($1, ' ') $$`,
    );
    await queryRunner.query(
      `CREATE INDEX "chart_search_document" ON "chart" USING gin ((` +
        `setweight(to_tsvector('simple'::regconfig, "name"), 'A') || ` +
        `setweight(to_tsvector('simple'::regconfig, berth_words("keywords")), 'B') || ` +
        `setweight(to_tsvector('simple'::regconfig, coalesce("description", '')), 'C')))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "chart_search_document"`);
    await queryRunner.query(`DROP FUNCTION berth_words(text[])`);
  }
}
