import type { Kysely } from "kysely";

/**
 * Per-agent credentials (issue 10): each krane agent holds its own bearer token, bound to one region
 * and to the addresses it may report (advertise hosts and a port range). Only the sha256 of the token
 * is stored; `revoked_at` set = refused. Frozen.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("agent_credentials")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("name", "varchar(255)", (c) => c.notNull())
    .addColumn("region", "varchar(64)", (c) => c.notNull())
    .addColumn("token_sha256", "char(64)", (c) => c.notNull().unique())
    // JSON array of host names/IPs the agent may put in reported instance addresses.
    .addColumn("advertise_hosts", "text", (c) => c.notNull())
    .addColumn("port_min", "integer", (c) => c.notNull())
    .addColumn("port_max", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("revoked_at", "bigint")
    .execute();
  await db.schema.createIndex("agent_credentials_region").on("agent_credentials").column("region").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("agent_credentials").ifExists().execute();
}
