import { MigrationInterface, QueryRunner } from 'typeorm';

export class BuyerSignIn1796250000000 implements MigrationInterface {
  name = 'BuyerSignIn1796250000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "buyer_login_link" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "email" character varying(320) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_buyer_login_link" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "buyer_login_link_expires_idx" ON "buyer_login_link" ("expires_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "buyer_session" ("token_hash" character varying(64) NOT NULL, "email" character varying(320) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_buyer_session" PRIMARY KEY ("token_hash"))`,
    );
    await queryRunner.query(`CREATE INDEX "buyer_session_expires_idx" ON "buyer_session" ("expires_at") `);
    await queryRunner.query(`ALTER TABLE "license" ADD "key_generation" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`CREATE INDEX "license_buyer_email_idx" ON "license" ("buyer_email") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."license_buyer_email_idx"`);
    await queryRunner.query(`ALTER TABLE "license" DROP COLUMN "key_generation"`);
    await queryRunner.query(`DROP INDEX "public"."buyer_session_expires_idx"`);
    await queryRunner.query(`DROP TABLE "buyer_session"`);
    await queryRunner.query(`DROP INDEX "public"."buyer_login_link_expires_idx"`);
    await queryRunner.query(`DROP TABLE "buyer_login_link"`);
  }
}
