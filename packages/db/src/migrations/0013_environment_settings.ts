import type { Kysely } from "kysely";

/**
 * Environment settings (issue 15). Frozen.
 *
 * `environments.replicas`, `cpu_millicores`, `memory_mib`, `health_check_path`: what new
 * deployments of the environment get; null = the platform default (ctrl-api's deployment defaults).
 * A deployment copies them when it is created, so changing them never changes a running deployment.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("environments")
    .addColumn("replicas", "integer")
    .addColumn("cpu_millicores", "integer")
    .addColumn("memory_mib", "integer")
    .addColumn("health_check_path", "varchar(255)")
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("environments")
    .dropColumn("replicas")
    .dropColumn("cpu_millicores")
    .dropColumn("memory_mib")
    .dropColumn("health_check_path")
    .execute();
}
