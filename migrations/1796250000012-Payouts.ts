import { MigrationInterface, QueryRunner } from 'typeorm';

/** Marketplace payouts: publishers' Connect accounts, handled Connect events, the transfer changes disputes call for, and each order's transfer and fee. */
export class Payouts1796250000012 implements MigrationInterface {
  name = 'Payouts1796250000012';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "payout_account" ("publisher_id" uuid NOT NULL, "account_id" character varying(255), "charges_enabled" boolean NOT NULL DEFAULT false, "payouts_enabled" boolean NOT NULL DEFAULT false, "transfers_capability" character varying(16) NOT NULL DEFAULT 'none', "currently_due" jsonb NOT NULL DEFAULT '[]', "deauthorized_at" TIMESTAMP WITH TIME ZONE, "payout_failure" jsonb, "fee_bps" integer, "fee_fixed" jsonb, "state_as_of" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_a570beba0aa365fcd7890069698" UNIQUE ("account_id"), CONSTRAINT "PK_b74b0f2510cdd0e19244e88a6ff" PRIMARY KEY ("publisher_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "connect_event" ("id" character varying(255) NOT NULL, "account" character varying(255) NOT NULL, "type" character varying(100) NOT NULL, "outcome" character varying(32) NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a8c804ee1e6b2f31e648ba7014a" PRIMARY KEY ("id", "account"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "transfer_action" ("order_id" uuid NOT NULL, "dispute_id" character varying(255) NOT NULL, "kind" character varying(8) NOT NULL, "charge_id" character varying(255), "destination" character varying(255) NOT NULL, "amount" integer NOT NULL, "currency" character(3) NOT NULL, "status" character varying(8) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_error" character varying(200), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "done_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_a04f2ace524eff6517b050e8867" PRIMARY KEY ("order_id", "dispute_id", "kind"))`,
    );
    await queryRunner.query(`ALTER TABLE "order" ADD "transfer_destination" character varying(255)`);
    await queryRunner.query(`ALTER TABLE "order" ADD "platform_fee_amount" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "order" DROP COLUMN "platform_fee_amount"`);
    await queryRunner.query(`ALTER TABLE "order" DROP COLUMN "transfer_destination"`);
    await queryRunner.query(`DROP TABLE "transfer_action"`);
    await queryRunner.query(`DROP TABLE "connect_event"`);
    await queryRunner.query(`DROP TABLE "payout_account"`);
  }
}
