import { MigrationInterface, QueryRunner } from 'typeorm';

export class ChartDownloads1796250000001 implements MigrationInterface {
  name = 'ChartDownloads1796250000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "chart_download_daily" ("chart_id" uuid NOT NULL, "version" character varying(255) NOT NULL, "day" date NOT NULL, "pulls" bigint NOT NULL DEFAULT '0', CONSTRAINT "PK_chart_download_daily" PRIMARY KEY ("chart_id", "version", "day"))`,
    );
    await queryRunner.query(`CREATE INDEX "chart_download_daily_day_idx" ON "chart_download_daily" ("day") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."chart_download_daily_day_idx"`);
    await queryRunner.query(`DROP TABLE "chart_download_daily"`);
  }
}
