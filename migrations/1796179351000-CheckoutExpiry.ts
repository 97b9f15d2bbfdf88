import { MigrationInterface, QueryRunner } from 'typeorm';

export class CheckoutExpiry1796179351000 implements MigrationInterface {
  name = 'CheckoutExpiry1796179351000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "order" ADD "expires_at" TIMESTAMP WITH TIME ZONE`);
    // Checkouts left pending before expiry existed get Stripe's longest session life (24 h) from their start.
    await queryRunner.query(
      `UPDATE "order" SET "expires_at" = "created_at" + interval '24 hours' WHERE "status" = 'pending'`,
    );
    await queryRunner.query(
      `CREATE INDEX "order_pending_expiry_idx" ON "order" ("expires_at") WHERE "status" = 'pending'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."order_pending_expiry_idx"`);
    await queryRunner.query(`ALTER TABLE "order" DROP COLUMN "expires_at"`);
  }
}
