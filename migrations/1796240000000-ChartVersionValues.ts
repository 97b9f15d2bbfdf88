import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each version's `values.yaml`, taken from the archive at upload, so a chart page shows and diffs it without
 * unpacking an archive. Versions stored before this have none recorded (null).
 */
export class ChartVersionValues1796240000000 implements MigrationInterface {
  name = 'ChartVersionValues1796240000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "chart_version" ADD "values_yaml" text`);
    await queryRunner.query(
      `ALTER TABLE "chart_version" ADD "values_truncated" boolean NOT NULL DEFAULT false`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "chart_version" DROP COLUMN "values_truncated"`);
    await queryRunner.query(`ALTER TABLE "chart_version" DROP COLUMN "values_yaml"`);
  }
}
