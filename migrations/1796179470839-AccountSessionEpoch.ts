import { MigrationInterface, QueryRunner } from 'typeorm';

export class AccountSessionEpoch1796179470839 implements MigrationInterface {
  name = 'AccountSessionEpoch1796179470839';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // 0 on existing accounts: access tokens issued before carry no epoch and count as 0, so they live on
    // until their expiry or the first sign-out everywhere.
    await queryRunner.query(`ALTER TABLE "account" ADD "session_epoch" integer NOT NULL DEFAULT '0'`);
    // Sign-up and login now use the NFKC form of an address: rewrite stored addresses to it, so their
    // owners can still log in, unless another account already holds (or would hold) that form; those
    // stay as they are (docs/reliability.md, known limits).
    await queryRunner.query(
      `UPDATE "account" a SET "email" = lower(normalize(a."email", NFKC))
        WHERE a."email" <> lower(normalize(a."email", NFKC))
          AND (SELECT count(*) FROM "account" b
                WHERE lower(normalize(b."email", NFKC)) = lower(normalize(a."email", NFKC))) = 1`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // Normalised addresses stay normalised: they are the same mailboxes.
    await queryRunner.query(`ALTER TABLE "account" DROP COLUMN "session_epoch"`);
  }
}
