import { MigrationInterface, QueryRunner } from 'typeorm';

/** The OCI registry: repositories, per-publisher blobs and their links, manifests, tags, uploads, releases' images. */
export class OciRegistry1796250000011 implements MigrationInterface {
  name = 'OciRegistry1796250000011';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "oci_repository" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "publisher_id" uuid NOT NULL, "name" character varying(255) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_bcf77139e054dae341be4a1b661" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "oci_repository_publisher_idx" ON "oci_repository"("publisher_id")`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "oci_repository_name_key" ON "oci_repository"("name")`);
    await queryRunner.query(
      `CREATE TABLE "oci_blob" ("publisher_id" uuid NOT NULL, "digest" character varying(100) NOT NULL, "size" bigint NOT NULL, "blob_key" character varying(512) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_34501823a11e02baec7fc0ed9d6" PRIMARY KEY ("publisher_id", "digest"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "oci_repository_blob" ("repository_id" uuid NOT NULL, "digest" character varying(100) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_0de8ee99502a75d95c6dd54546e" PRIMARY KEY ("repository_id", "digest"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "oci_manifest" ("repository_id" uuid NOT NULL, "digest" character varying(100) NOT NULL, "media_type" character varying(255) NOT NULL, "body" bytea NOT NULL, "artifact_type" character varying(255), "subject_digest" character varying(100), "chart_version_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_34df13d036f6ab11b70541db549" PRIMARY KEY ("repository_id", "digest"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "oci_manifest_chart_version_idx" ON "oci_manifest"("chart_version_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "oci_manifest_reference" ("repository_id" uuid NOT NULL, "manifest_digest" character varying(100) NOT NULL, "child_digest" character varying(100) NOT NULL, "kind" character varying(8) NOT NULL, CONSTRAINT "PK_4eee925b08cce971d360ecf5b4b" PRIMARY KEY ("repository_id", "manifest_digest", "child_digest"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "oci_manifest_reference_child_idx" ON "oci_manifest_reference"("repository_id", "child_digest")`,
    );
    await queryRunner.query(
      `CREATE TABLE "oci_tag" ("repository_id" uuid NOT NULL, "tag" character varying(128) NOT NULL, "manifest_digest" character varying(100) NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ef5ec6bf6725c626722a3650d72" PRIMARY KEY ("repository_id", "tag"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "oci_tag_manifest_idx" ON "oci_tag"("repository_id", "manifest_digest")`,
    );
    await queryRunner.query(
      `CREATE TABLE "oci_upload" ("id" uuid NOT NULL, "repository_id" uuid NOT NULL, "publisher_id" uuid NOT NULL, "parts" jsonb NOT NULL DEFAULT '[]', "size" bigint NOT NULL DEFAULT '0', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_94116f28311d9473c5141c35cad" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "oci_upload_updated_idx" ON "oci_upload"("updated_at")`);
    await queryRunner.query(
      `CREATE TABLE "oci_release_image" ("chart_version_id" uuid NOT NULL, "repository_name" character varying(255) NOT NULL, "reference" character varying(160) NOT NULL, "manifest_digest" character varying(100), "source" character varying(16) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a5913ea9bf8a993c268b6b2d912" PRIMARY KEY ("chart_version_id", "repository_name", "reference"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "oci_release_image_lookup_idx" ON "oci_release_image"("repository_name", "manifest_digest")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."oci_release_image_lookup_idx"`);
    await queryRunner.query(`DROP TABLE "oci_release_image"`);
    await queryRunner.query(`DROP INDEX "public"."oci_upload_updated_idx"`);
    await queryRunner.query(`DROP TABLE "oci_upload"`);
    await queryRunner.query(`DROP INDEX "public"."oci_tag_manifest_idx"`);
    await queryRunner.query(`DROP TABLE "oci_tag"`);
    await queryRunner.query(`DROP INDEX "public"."oci_manifest_reference_child_idx"`);
    await queryRunner.query(`DROP TABLE "oci_manifest_reference"`);
    await queryRunner.query(`DROP INDEX "public"."oci_manifest_chart_version_idx"`);
    await queryRunner.query(`DROP TABLE "oci_manifest"`);
    await queryRunner.query(`DROP TABLE "oci_repository_blob"`);
    await queryRunner.query(`DROP TABLE "oci_blob"`);
    await queryRunner.query(`DROP INDEX "public"."oci_repository_name_key"`);
    await queryRunner.query(`DROP INDEX "public"."oci_repository_publisher_idx"`);
    await queryRunner.query(`DROP TABLE "oci_repository"`);
  }
}
