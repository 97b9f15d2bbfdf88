import { MigrationInterface, QueryRunner } from 'typeorm';

export class LiveVersionIndex1796250000004 implements MigrationInterface {
  name = 'LiveVersionIndex1796250000004';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "chart_version_live_created_idx" ON "chart_version" ("chart_id", "created_at") WHERE "yanked_at" IS NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."chart_version_live_created_idx"`);
  }
}
