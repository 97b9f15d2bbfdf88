import { MigrationInterface, QueryRunner } from 'typeorm';

export class OrderAnchorDisputesRefunds1795870488566 implements MigrationInterface {
  name = 'OrderAnchorDisputesRefunds1795870488566';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "payment_dispute" ("payment_ref" character varying(255) NOT NULL, "id" character varying(255) NOT NULL, "status" character varying(32) NOT NULL, "closed_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_cb99386566f6f51dc10344ed382" PRIMARY KEY ("payment_ref", "id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "payment_refund" ("payment_ref" character varying(255) NOT NULL, "amount" integer NOT NULL, "currency" character(3) NOT NULL, "amount_refunded" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_e63ff578b30cd0366d020facd55" PRIMARY KEY ("payment_ref"))`,
    );
    // Null on existing orders: fulfilment then anchors on the newest stable version at payment, as before.
    await queryRunner.query(`ALTER TABLE "order" ADD "newest_stable_version" character varying(255)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "order" DROP COLUMN "newest_stable_version"`);
    await queryRunner.query(`DROP TABLE "payment_refund"`);
    await queryRunner.query(`DROP TABLE "payment_dispute"`);
  }
}
