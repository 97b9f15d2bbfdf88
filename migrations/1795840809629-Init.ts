import { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1795840809629 implements MigrationInterface {
  name = 'Init1795840809629';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "account" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "email" character varying(320) NOT NULL, "password_hash" character varying(255) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_54115ee388cdb6d86bb4bf5b2ea" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "account_email_key" ON "account"  ("email") `);
    await queryRunner.query(
      `CREATE TABLE "publisher" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "slug" character varying(40) NOT NULL, "display_name" character varying(100) NOT NULL, "owner_account_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_70a5936b43177f76161724da3e6" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "publisher_slug_key" ON "publisher"  ("slug") `);
    await queryRunner.query(`CREATE INDEX "publisher_owner_idx" ON "publisher"  ("owner_account_id") `);
    await queryRunner.query(
      `CREATE TABLE "api_token" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "publisher_id" uuid NOT NULL, "name" character varying(100) NOT NULL, "token_hash" character(64) NOT NULL, "scopes" text array NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_d862311c568d175c26f41bc6f98" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "api_token_publisher_idx" ON "api_token"  ("publisher_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "api_token_hash_key" ON "api_token"  ("token_hash") `);
    await queryRunner.query(
      `CREATE TABLE "chart" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "publisher_id" uuid NOT NULL, "name" character varying(63) NOT NULL, "description" text, "icon" text, "keywords" text array NOT NULL DEFAULT '{}', "home" text, "sources" text array NOT NULL DEFAULT '{}', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_992ed0006df2077b57b2d06eea4" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "chart_publisher_name_key" ON "chart"  ("publisher_id", "name") `,
    );
    await queryRunner.query(
      `CREATE TABLE "chart_version" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "chart_id" uuid NOT NULL, "version" character varying(255) NOT NULL, "app_version" character varying(255), "digest" character(64) NOT NULL, "size" integer NOT NULL, "blob_key" character varying(255) NOT NULL, "prov_blob_key" character varying(255), "metadata" jsonb NOT NULL, "readme" text, "values_schema" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "yanked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_19db57cdd8c48db03b54364296f" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "chart_version_blob_key_key" ON "chart_version"  ("blob_key") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "chart_version_chart_version_key" ON "chart_version"  ("chart_id", "version") `,
    );
    await queryRunner.query(
      `CREATE TABLE "listing" ("chart_id" uuid NOT NULL, "price_amount" integer NOT NULL, "currency" character(3) NOT NULL, "update_policy" character varying(16) NOT NULL, "update_window_months" integer, "published" boolean NOT NULL DEFAULT false, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_31e6886470e96b1f4ab1dd77dac" PRIMARY KEY ("chart_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "publisher" ADD CONSTRAINT "FK_735e17b9c1d44ad0a1f001a072b" FOREIGN KEY ("owner_account_id") REFERENCES "account"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "api_token" ADD CONSTRAINT "FK_42619286cd1a6c1971477b7332a" FOREIGN KEY ("publisher_id") REFERENCES "publisher"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "chart_version" ADD CONSTRAINT "FK_3bb5606bff216008c4bc627916e" FOREIGN KEY ("chart_id") REFERENCES "chart"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "listing" ADD CONSTRAINT "FK_31e6886470e96b1f4ab1dd77dac" FOREIGN KEY ("chart_id") REFERENCES "chart"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "listing" DROP CONSTRAINT "FK_31e6886470e96b1f4ab1dd77dac"`);
    await queryRunner.query(`ALTER TABLE "chart_version" DROP CONSTRAINT "FK_3bb5606bff216008c4bc627916e"`);
    await queryRunner.query(`ALTER TABLE "api_token" DROP CONSTRAINT "FK_42619286cd1a6c1971477b7332a"`);
    await queryRunner.query(`ALTER TABLE "publisher" DROP CONSTRAINT "FK_735e17b9c1d44ad0a1f001a072b"`);
    await queryRunner.query(`DROP TABLE "listing"`);
    await queryRunner.query(`DROP INDEX "public"."chart_version_chart_version_key"`);
    await queryRunner.query(`DROP INDEX "public"."chart_version_blob_key_key"`);
    await queryRunner.query(`DROP TABLE "chart_version"`);
    await queryRunner.query(`DROP INDEX "public"."chart_publisher_name_key"`);
    await queryRunner.query(`DROP TABLE "chart"`);
    await queryRunner.query(`DROP INDEX "public"."api_token_hash_key"`);
    await queryRunner.query(`DROP INDEX "public"."api_token_publisher_idx"`);
    await queryRunner.query(`DROP TABLE "api_token"`);
    await queryRunner.query(`DROP INDEX "public"."publisher_owner_idx"`);
    await queryRunner.query(`DROP INDEX "public"."publisher_slug_key"`);
    await queryRunner.query(`DROP TABLE "publisher"`);
    await queryRunner.query(`DROP INDEX "public"."account_email_key"`);
    await queryRunner.query(`DROP TABLE "account"`);
  }
}
