import { MigrationInterface, QueryRunner } from 'typeorm';

export class AccountSessionEpoch1796179470839 implements MigrationInterface {
  name = 'AccountSessionEpoch1796179470839';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // 0 on existing accounts: access tokens issued before carry no epoch and count as 0, so they live on
    // until their expiry or the first sign-out everywhere.
    await queryRunner.query(`ALTER TABLE "account" ADD "session_epoch" integer NOT NULL DEFAULT '0'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "account" DROP COLUMN "session_epoch"`);
  }
}
