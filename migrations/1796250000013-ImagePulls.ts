import { MigrationInterface, QueryRunner } from 'typeorm';

/** Pulls of releases' container images per chart version, license and day, apart from .tgz downloads. */
export class ImagePulls1796250000013 implements MigrationInterface {
  name = 'ImagePulls1796250000013';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "image_pull_daily" ("chart_id" uuid NOT NULL, "version" character varying(255) NOT NULL, "day" date NOT NULL, "license_id" uuid NOT NULL, "pulls" bigint NOT NULL DEFAULT '0', CONSTRAINT "PK_681453025b2defe6475ec25bb7e" PRIMARY KEY ("chart_id", "version", "day", "license_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "image_pull_daily_day_idx" ON "image_pull_daily"  ("day") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."image_pull_daily_day_idx"`);
    await queryRunner.query(`DROP TABLE "image_pull_daily"`);
  }
}
