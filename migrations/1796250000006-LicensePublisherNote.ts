import { MigrationInterface, QueryRunner } from 'typeorm';

export class LicensePublisherNote1796250000006 implements MigrationInterface {
  name = 'LicensePublisherNote1796250000006';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "license" ADD "publisher_note" character varying(300)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "license" DROP COLUMN "publisher_note"`);
  }
}
