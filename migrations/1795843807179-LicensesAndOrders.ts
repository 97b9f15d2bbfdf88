import { MigrationInterface, QueryRunner } from 'typeorm';

export class LicensesAndOrders1795843807179 implements MigrationInterface {
  name = 'LicensesAndOrders1795843807179';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "signing_key" ("kid" character varying(64) NOT NULL, "algorithm" character varying(16) NOT NULL, "public_jwk" jsonb NOT NULL, "private_key_encrypted" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "retired_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_00d7e305393ab903d6eb06c11f9" PRIMARY KEY ("kid"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "license" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "order_id" uuid, "publisher_id" uuid NOT NULL, "publisher_slug" character varying(40) NOT NULL, "chart_id" uuid NOT NULL, "chart_name" character varying(63) NOT NULL, "buyer_email" character varying(320) NOT NULL, "version_range" character varying(255) NOT NULL, "updates_until" TIMESTAMP WITH TIME ZONE, "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "suspended_at" TIMESTAMP WITH TIME ZONE, "reason" character varying(64), "kid" character varying(64) NOT NULL, CONSTRAINT "PK_f168ac1ca5ba87286d03b2ef905" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "license_order_key" ON "license"  ("order_id") `);
    await queryRunner.query(
      `CREATE INDEX "license_publisher_idx" ON "license"  ("publisher_id", "issued_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "order" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "publisher_id" uuid NOT NULL, "chart_id" uuid NOT NULL, "publisher_slug" character varying(40) NOT NULL, "chart_name" character varying(63) NOT NULL, "update_policy" character varying(16) NOT NULL, "update_window_months" integer, "buyer_email" character varying(320) NOT NULL, "amount" integer NOT NULL, "currency" character(3) NOT NULL, "provider" character varying(16) NOT NULL, "provider_session_id" character varying(255), "payment_ref" character varying(255), "status" character varying(16) NOT NULL, "refunded_amount" integer NOT NULL DEFAULT '0', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "paid_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_1031171c13130102495201e3e20" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "order_provider_session_key" ON "order"  ("provider_session_id") `,
    );
    await queryRunner.query(`CREATE INDEX "order_payment_ref_idx" ON "order"  ("payment_ref") `);
    await queryRunner.query(`CREATE INDEX "order_publisher_idx" ON "order"  ("publisher_id", "created_at") `);
    await queryRunner.query(
      `CREATE TABLE "webhook_event" ("id" character varying(255) NOT NULL, "provider" character varying(16) NOT NULL, "type" character varying(100) NOT NULL, "payment_ref" character varying(255), "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "processed_at" TIMESTAMP WITH TIME ZONE, "outcome" character varying(64), CONSTRAINT "PK_0f56d2f40f5ec823acf8e8edad1" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "webhook_event_payment_ref_idx" ON "webhook_event"  ("payment_ref") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."webhook_event_payment_ref_idx"`);
    await queryRunner.query(`DROP TABLE "webhook_event"`);
    await queryRunner.query(`DROP INDEX "public"."order_publisher_idx"`);
    await queryRunner.query(`DROP INDEX "public"."order_payment_ref_idx"`);
    await queryRunner.query(`DROP INDEX "public"."order_provider_session_key"`);
    await queryRunner.query(`DROP TABLE "order"`);
    await queryRunner.query(`DROP INDEX "public"."license_publisher_idx"`);
    await queryRunner.query(`DROP INDEX "public"."license_order_key"`);
    await queryRunner.query(`DROP TABLE "license"`);
    await queryRunner.query(`DROP TABLE "signing_key"`);
  }
}
