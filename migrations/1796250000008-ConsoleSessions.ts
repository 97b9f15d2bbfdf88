import { MigrationInterface, QueryRunner } from 'typeorm';

export class ConsoleSessions1796250000008 implements MigrationInterface {
  name = 'ConsoleSessions1796250000008';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "console_session" ("token_hash" character(64) NOT NULL, "account_id" uuid NOT NULL, "session_epoch" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_d2489983f3903a6c92782d0d0e1" PRIMARY KEY ("token_hash"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "console_session_account_idx" ON "console_session" ("account_id") `,
    );
    await queryRunner.query(
      `ALTER TABLE "console_session" ADD CONSTRAINT "FK_22b9832f88e76a2b9dfb83f0d8b" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "console_session"`);
  }
}
