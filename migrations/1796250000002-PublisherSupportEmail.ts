import { MigrationInterface, QueryRunner } from 'typeorm';

export class PublisherSupportEmail1796250000002 implements MigrationInterface {
  name = 'PublisherSupportEmail1796250000002';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "publisher" ADD "support_email" character varying(320)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "publisher" DROP COLUMN "support_email"`);
  }
}
