import type { Kysely } from "kysely";

/**
 * Builds (issue 6): one `builds` row per deployment that was built from a context, and the build
 * log as `build_logs` lines so GetDeployment/WatchDeployment/the CLI can tail it live. Frozen.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("builds")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    // One build per deployment: a retried BuildService call upserts this row instead of adding one.
    .addColumn("deployment_id", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("project_id", "varchar(64)", (c) => c.notNull())
    .addColumn("backend", "varchar(32)", (c) => c.notNull())
    .addColumn("context_key", "varchar(1024)", (c) => c.notNull())
    .addColumn("context_sha256", "char(64)")
    .addColumn("status", "varchar(32)", (c) => c.notNull())
    .addColumn("image", "varchar(2048)")
    .addColumn("artifact_sha256", "char(64)")
    // The build whose artifact this one reuses (same project and context digest).
    .addColumn("cached_from_build_id", "varchar(64)")
    .addColumn("failed_step", "varchar(64)")
    .addColumn("error_message", "text")
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("ended_at", "bigint")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("builds_project_context").on("builds").columns(["project_id", "context_sha256", "status"]).execute();

  await db.schema
    .createTable("build_logs")
    .addColumn("id", "bigint", (c) => c.primaryKey().autoIncrement())
    .addColumn("deployment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("build_id", "varchar(64)", (c) => c.notNull())
    .addColumn("step", "varchar(64)", (c) => c.notNull())
    // Per-deployment sequence so a reader can resume with `seq > cursor`.
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("line", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("build_logs_deployment_seq", ["deployment_id", "seq"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("build_logs").ifExists().execute();
  await db.schema.dropTable("builds").ifExists().execute();
}
