import { type Kysely, sql } from "kysely";

/**
 * The initial schema (ARCHITECTURE.md section 3). Frozen: later changes add a new migration.
 * Times are Unix milliseconds (bigint). Versions are per region and unique per region.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("workspaces")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("name", "varchar(255)", (c) => c.notNull())
    .addColumn("slug", "varchar(255)", (c) => c.notNull().unique())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("projects")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("name", "varchar(255)", (c) => c.notNull())
    .addColumn("slug", "varchar(255)", (c) => c.notNull())
    .addColumn("default_branch", "varchar(255)", (c) => c.notNull().defaultTo("main"))
    .addColumn("live_deployment_id", "varchar(64)")
    .addColumn("is_rolled_back", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("projects_workspace_slug", ["workspace_id", "slug"])
    .execute();

  await db.schema
    .createTable("environments")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("project_id", "varchar(64)", (c) => c.notNull())
    .addColumn("slug", "varchar(255)", (c) => c.notNull())
    // JSON array of region names overriding the worker's configured regions; NULL = use config.
    .addColumn("regions", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("environments_project_slug", ["project_id", "slug"])
    .execute();

  await db.schema
    .createTable("environment_variables")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("key", "varchar(255)", (c) => c.notNull())
    .addColumn("encrypted_value", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("environment_variables_env_key", ["environment_id", "key"])
    .execute();

  await db.schema
    .createTable("deployments")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("project_id", "varchar(64)", (c) => c.notNull())
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("source_type", "varchar(32)", (c) => c.notNull())
    .addColumn("build_context_path", "varchar(1024)")
    .addColumn("dockerfile_path", "varchar(1024)")
    .addColumn("image", "varchar(2048)")
    .addColumn("build_id", "varchar(64)")
    .addColumn("git_commit_sha", "varchar(64)", (c) => c.notNull().defaultTo(""))
    .addColumn("git_branch", "varchar(255)", (c) => c.notNull().defaultTo(""))
    .addColumn("git_commit_message", "text")
    .addColumn("git_commit_author_handle", "varchar(256)")
    .addColumn("git_commit_author_avatar_url", "varchar(512)")
    .addColumn("git_commit_timestamp", "bigint")
    .addColumn("command", "text")
    .addColumn("status", "varchar(32)", (c) => c.notNull())
    .addColumn("error_message", "text")
    .addColumn("failed_step", "varchar(64)")
    .addColumn("openapi_spec", sql`longtext`)
    .addColumn("cpu_millicores", "integer", (c) => c.notNull())
    .addColumn("memory_mib", "integer", (c) => c.notNull())
    .addColumn("replicas", "integer", (c) => c.notNull())
    .addColumn("port", "integer", (c) => c.notNull())
    .addColumn("health_check_path", "varchar(255)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("deployments_project_created").on("deployments").columns(["project_id", "created_at"]).execute();
  await db.schema.createIndex("deployments_environment_created").on("deployments").columns(["environment_id", "created_at"]).execute();

  await db.schema
    .createTable("deployment_steps")
    .addColumn("id", "bigint", (c) => c.primaryKey().autoIncrement())
    .addColumn("deployment_id", "varchar(64)", (c) => c.notNull())
    // A stable name per workflow step; (deployment_id, step) is unique so a retried step updates its row.
    .addColumn("step", "varchar(64)", (c) => c.notNull())
    .addColumn("status", "varchar(32)", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("error_message", "text")
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("ended_at", "bigint")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("deployment_steps_deployment_step", ["deployment_id", "step"])
    .execute();

  await db.schema
    .createTable("deployment_topology")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("deployment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("region", "varchar(64)", (c) => c.notNull())
    .addColumn("desired_replicas", "integer", (c) => c.notNull())
    .addColumn("desired_status", "varchar(32)", (c) => c.notNull())
    .addColumn("version", sql`bigint unsigned`, (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("deployment_topology_deployment_region", ["deployment_id", "region"])
    .addUniqueConstraint("deployment_topology_region_version", ["region", "version"])
    .execute();

  await db.schema
    .createTable("sentinels")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("project_id", "varchar(64)", (c) => c.notNull())
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("region", "varchar(64)", (c) => c.notNull())
    .addColumn("k8s_name", "varchar(255)", (c) => c.notNull())
    .addColumn("image", "varchar(2048)", (c) => c.notNull())
    .addColumn("desired_replicas", "integer", (c) => c.notNull())
    .addColumn("desired_state", "varchar(32)", (c) => c.notNull())
    .addColumn("cpu_millicores", "integer", (c) => c.notNull())
    .addColumn("memory_mib", "integer", (c) => c.notNull())
    .addColumn("health", "varchar(32)", (c) => c.notNull().defaultTo("unknown"))
    .addColumn("available_replicas", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("running_image", "varchar(2048)")
    .addColumn("addresses", "text")
    .addColumn("version", sql`bigint unsigned`, (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("sentinels_environment_region", ["environment_id", "region"])
    .addUniqueConstraint("sentinels_region_k8s_name", ["region", "k8s_name"])
    .addUniqueConstraint("sentinels_region_version", ["region", "version"])
    .execute();

  // The per-region version counter (ARCHITECTURE.md "Versions"): locked in the transaction that
  // commits a versioned row, so that commit order equals version order within a region.
  await db.schema
    .createTable("region_versions")
    .addColumn("region", "varchar(64)", (c) => c.primaryKey())
    .addColumn("version", sql`bigint unsigned`, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("instances")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("project_id", "varchar(64)", (c) => c.notNull())
    .addColumn("deployment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("region", "varchar(64)", (c) => c.notNull())
    .addColumn("k8s_name", "varchar(255)", (c) => c.notNull())
    .addColumn("address", "varchar(255)", (c) => c.notNull())
    .addColumn("cpu_millicores", "integer", (c) => c.notNull())
    .addColumn("memory_mib", "integer", (c) => c.notNull())
    .addColumn("status", "varchar(32)", (c) => c.notNull())
    .addColumn("exit_code", "integer")
    .addColumn("halt_intent", "varchar(64)")
    .addColumn("failure_reason", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("instances_region_k8s_name", ["region", "k8s_name"])
    .execute();
  await db.schema.createIndex("instances_deployment").on("instances").columns(["deployment_id", "region"]).execute();

  await db.schema
    .createTable("frontline_routes")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("project_id", "varchar(64)", (c) => c.notNull())
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("deployment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("fully_qualified_domain_name", "varchar(255)", (c) => c.notNull().unique())
    .addColumn("sticky", "varchar(32)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("frontline_routes_project_sticky").on("frontline_routes").columns(["project_id", "sticky"]).execute();
  await db.schema.createIndex("frontline_routes_deployment").on("frontline_routes").columns(["deployment_id"]).execute();
  await db.schema.createIndex("frontline_routes_updated").on("frontline_routes").columns(["updated_at"]).execute();

  await db.schema
    .createTable("custom_domains")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("project_id", "varchar(64)", (c) => c.notNull())
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("domain", "varchar(255)", (c) => c.notNull().unique())
    .addColumn("challenge_type", "varchar(32)", (c) => c.notNull())
    .addColumn("verification_status", "varchar(32)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("acme_challenges")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("domain_id", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("token", "varchar(255)")
    .addColumn("authorization", "text")
    .addColumn("type", "varchar(32)", (c) => c.notNull())
    .addColumn("status", "varchar(32)", (c) => c.notNull())
    .addColumn("error_message", "text")
    .addColumn("expires_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("acme_users")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("directory_url", "varchar(1024)", (c) => c.notNull())
    .addColumn("encrypted_key", "text", (c) => c.notNull())
    .addColumn("registration_uri", "varchar(1024)")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("certificates")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("hostname", "varchar(255)", (c) => c.notNull().unique())
    .addColumn("certificate", "text", (c) => c.notNull())
    .addColumn("encrypted_private_key", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("name", "varchar(255)", (c) => c.notNull())
    // sha256 of the key, hex; the key itself is shown once and never stored.
    .addColumn("hash", "char(64)", (c) => c.notNull().unique())
    .addColumn("start", "varchar(16)", (c) => c.notNull())
    // JSON array of permission strings, e.g. ["project.*.*"].
    .addColumn("permissions", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint")
    .addColumn("deleted_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "api_keys",
    "certificates",
    "acme_users",
    "acme_challenges",
    "custom_domains",
    "frontline_routes",
    "instances",
    "region_versions",
    "sentinels",
    "deployment_topology",
    "deployment_steps",
    "deployments",
    "environment_variables",
    "environments",
    "projects",
    "workspaces",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
