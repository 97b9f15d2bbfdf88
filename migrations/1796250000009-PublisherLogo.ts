import { MigrationInterface, QueryRunner } from 'typeorm';

/** A publisher's logo: an https address, or an uploaded image (blob key, sniffed type, SHA-256). */
export class PublisherLogo1796250000009 implements MigrationInterface {
  name = 'PublisherLogo1796250000009';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "publisher" ADD "logo_url" character varying(2048)`);
    await queryRunner.query(`ALTER TABLE "publisher" ADD "logo_blob_key" character varying(512)`);
    await queryRunner.query(`ALTER TABLE "publisher" ADD "logo_content_type" character varying(20)`);
    await queryRunner.query(`ALTER TABLE "publisher" ADD "logo_sha256" character(64)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "publisher" DROP COLUMN "logo_sha256"`);
    await queryRunner.query(`ALTER TABLE "publisher" DROP COLUMN "logo_content_type"`);
    await queryRunner.query(`ALTER TABLE "publisher" DROP COLUMN "logo_blob_key"`);
    await queryRunner.query(`ALTER TABLE "publisher" DROP COLUMN "logo_url"`);
  }
}
