import { MigrationInterface, QueryRunner } from 'typeorm';

export class AccountMail1796250000003 implements MigrationInterface {
  name = 'AccountMail1796250000003';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "account_mail_token" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "account_id" uuid NOT NULL, "purpose" character varying(20) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_2c4dd5ebf94f1205b82d9b565df" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "account_mail_token_account_idx" ON "account_mail_token" ("account_id") `,
    );
    await queryRunner.query(`ALTER TABLE "account" ADD "email_verified_at" TIMESTAMP WITH TIME ZONE`);
    // Accounts made before confirmation existed keep signing in: they count as confirmed when they were made.
    await queryRunner.query(`UPDATE "account" SET "email_verified_at" = "created_at"`);
    await queryRunner.query(
      `ALTER TABLE "account_mail_token" ADD CONSTRAINT "FK_5872539aaa2d60fe5cc796c6f1b" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "account_mail_token" DROP CONSTRAINT "FK_5872539aaa2d60fe5cc796c6f1b"`,
    );
    await queryRunner.query(`ALTER TABLE "account" DROP COLUMN "email_verified_at"`);
    await queryRunner.query(`DROP INDEX "public"."account_mail_token_account_idx"`);
    await queryRunner.query(`DROP TABLE "account_mail_token"`);
  }
}
