import { MigrationInterface, QueryRunner } from 'typeorm';

export class MailOutbox1796230000000 implements MigrationInterface {
  name = 'MailOutbox1796230000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "mail_outbox" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "kind" character varying(40) NOT NULL, "subject" character varying(100) NOT NULL, "recipient" character varying(320) NOT NULL, "status" character varying(10) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_error" character varying(500), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "done_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_fecc63c96385bc35a39ccf2a72e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "mail_outbox_kind_subject_key" ON "mail_outbox" ("kind", "subject") `,
    );
    await queryRunner.query(
      `CREATE INDEX "mail_outbox_due_idx" ON "mail_outbox" ("next_attempt_at") WHERE "status" = 'pending'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."mail_outbox_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."mail_outbox_kind_subject_key"`);
    await queryRunner.query(`DROP TABLE "mail_outbox"`);
  }
}
