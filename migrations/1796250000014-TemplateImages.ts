import { MigrationInterface, QueryRunner } from 'typeorm';

/** The full image references a chart version's templates name, kept at upload for the registry's releases. */
export class TemplateImages1796250000014 implements MigrationInterface {
  name = 'TemplateImages1796250000014';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "chart_version" ADD "template_images" jsonb NOT NULL DEFAULT '[]'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "chart_version" DROP COLUMN "template_images"`);
  }
}
