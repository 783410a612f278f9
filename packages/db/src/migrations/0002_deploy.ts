import type { Kysely } from "kysely";

/**
 * Deploy workflow (issue 3): a structured failure reason next to the human-readable error message,
 * e.g. `readiness_timeout`, `start_failed`, `image_pull_failed`, `build_not_configured`. Frozen.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("deployments").addColumn("failure_reason", "varchar(64)").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("deployments").dropColumn("failure_reason").execute();
}
