import { MigrationInterface, QueryRunner } from 'typeorm';

export class RateLimitWindows1796179386473 implements MigrationInterface {
  name = 'RateLimitWindows1796179386473';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "rate_limit_window" ("key" character varying(64) NOT NULL, "window_start" TIMESTAMP WITH TIME ZONE NOT NULL, "count" integer NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_5ae372deb12f1c81d82b2fcf50a" PRIMARY KEY ("key", "window_start"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "rate_limit_window_expires_idx" ON "rate_limit_window"  ("expires_at") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."rate_limit_window_expires_idx"`);
    await queryRunner.query(`DROP TABLE "rate_limit_window"`);
  }
}
