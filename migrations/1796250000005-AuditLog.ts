import { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditLog1796250000005 implements MigrationInterface {
  name = 'AuditLog1796250000005';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "audit_event" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "publisher_id" uuid, "account_id" uuid, "api_token_id" uuid, "action" character varying(40) NOT NULL, "subject" character varying(200) NOT NULL, "client_address" character varying(64), "user_agent" character varying(200), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_481efbe8b0a403efe3f47a6528f" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "audit_event_account_idx" ON "audit_event" ("account_id", "created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "audit_event_publisher_idx" ON "audit_event" ("publisher_id", "created_at") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."audit_event_publisher_idx"`);
    await queryRunner.query(`DROP INDEX "public"."audit_event_account_idx"`);
    await queryRunner.query(`DROP TABLE "audit_event"`);
  }
}
