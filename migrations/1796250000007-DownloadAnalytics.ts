import { MigrationInterface, QueryRunner } from 'typeorm';

export class DownloadAnalytics1796250000007 implements MigrationInterface {
  name = 'DownloadAnalytics1796250000007';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "license_download_daily" ("license_id" uuid NOT NULL, "version" character varying(255) NOT NULL, "day" date NOT NULL, "chart_id" uuid NOT NULL, "pulls" bigint NOT NULL DEFAULT '0', CONSTRAINT "PK_02b41e4df10dc73309fa782fe59" PRIMARY KEY ("license_id", "version", "day"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "download_client_daily" ("day" date NOT NULL, "chart_id" uuid NOT NULL, "license_id" uuid NOT NULL, "client" character(22) NOT NULL, CONSTRAINT "PK_f0e5a4ed5fefce20a9e92ed221c" PRIMARY KEY ("day", "chart_id", "license_id", "client"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "download_client_daily_license_idx" ON "download_client_daily" ("license_id", "day") `,
    );
    await queryRunner.query(
      `CREATE TABLE "index_fetch_daily" ("publisher_id" uuid NOT NULL, "day" date NOT NULL, "audience" character varying(16) NOT NULL, "fetches" bigint NOT NULL DEFAULT '0', CONSTRAINT "PK_7d339761620dbc5eda553e60fec" PRIMARY KEY ("publisher_id", "day", "audience"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "index_fetch_daily"`);
    await queryRunner.query(`DROP INDEX "public"."download_client_daily_license_idx"`);
    await queryRunner.query(`DROP TABLE "download_client_daily"`);
    await queryRunner.query(`DROP TABLE "license_download_daily"`);
  }
}
