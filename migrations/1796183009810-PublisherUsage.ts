import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A running total of the bytes each publisher stores, so the upload quota reads one row instead of
 * summing the catalog. Filled from what is stored now (a `.prov` stored before its size was recorded
 * counts 256 KiB, its largest size, as the quota did before).
 */
export class PublisherUsage1796183009810 implements MigrationInterface {
  name = 'PublisherUsage1796183009810';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "publisher_usage" ("publisher_id" uuid NOT NULL, "stored_bytes" bigint NOT NULL DEFAULT '0', CONSTRAINT "PK_bcf9945692405b7cace5b85c2be" PRIMARY KEY ("publisher_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "publisher_usage" ("publisher_id", "stored_bytes")
       SELECT c."publisher_id",
              SUM(v."size"::bigint + CASE WHEN v."prov_blob_key" IS NULL THEN 0 ELSE COALESCE(v."prov_size", 262144) END)
         FROM "chart_version" v JOIN "chart" c ON c."id" = v."chart_id"
        GROUP BY c."publisher_id"`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "publisher_usage"`);
  }
}
