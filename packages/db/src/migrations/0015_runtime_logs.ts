import type { Kysely } from "kysely";

/**
 * Runtime logs (issue 15): what instances print, pushed up by the region's agent, one row per line,
 * kept per deployment after its instances exit. (region, instance, stream, position) is unique so a retried
 * push stores nothing twice; `id` is the reader's cursor. Frozen.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("runtime_logs")
    .addColumn("id", "bigint", (c) => c.primaryKey().autoIncrement())
    .addColumn("deployment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("region", "varchar(64)", (c) => c.notNull())
    .addColumn("instance", "varchar(255)", (c) => c.notNull())
    // One continuous output of the instance (the agent starts a new one when its log starts over).
    .addColumn("stream", "varchar(64)", (c) => c.notNull())
    // Byte offset of the line in the stream.
    .addColumn("position", "bigint", (c) => c.notNull())
    .addColumn("line", "text", (c) => c.notNull())
    .addColumn("observed_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("runtime_logs_instance_position", ["region", "instance", "stream", "position"])
    .execute();
  await db.schema.createIndex("runtime_logs_deployment").on("runtime_logs").columns(["deployment_id", "id"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("runtime_logs").ifExists().execute();
}
