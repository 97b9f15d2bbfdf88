import { MigrationInterface, QueryRunner } from 'typeorm';

export class LicenseDownloadTotal1796250000010 implements MigrationInterface {
  name = 'LicenseDownloadTotal1796250000010';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "license_download_total" ("license_id" uuid NOT NULL, "pulls" bigint NOT NULL DEFAULT '0', "first_day" date NOT NULL, "last_day" date NOT NULL, CONSTRAINT "PK_license_download_total" PRIMARY KEY ("license_id"))`,
    );
    // What was counted before this table: the daily rows, summed once.
    await queryRunner.query(
      `INSERT INTO "license_download_total" ("license_id", "pulls", "first_day", "last_day")
       SELECT "license_id", sum("pulls"), min("day"), max("day") FROM "license_download_daily" GROUP BY "license_id"`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "license_download_total"`);
  }
}
