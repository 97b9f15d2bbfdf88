import { MigrationInterface, QueryRunner } from 'typeorm';

export class ProvenanceSize1795880000001 implements MigrationInterface {
  name = 'ProvenanceSize1795880000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Null on existing rows: the publisher quota then counts a stored .prov at its largest allowed size.
    await queryRunner.query(`ALTER TABLE "chart_version" ADD "prov_size" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "chart_version" DROP COLUMN "prov_size"`);
  }
}
