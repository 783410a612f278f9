import { randomBytes } from "node:crypto";
import { sql, type Kysely } from "kysely";

/**
 * Custom domains are proven before they are used (issue 10). A claim carries the TXT value its owner
 * must publish at `_ctrl-challenge.<domain>`; `verification_status` now means ownership
 * (`pending_verification | verified | failed`) and the certificate state lives in `acme_challenges`
 * only. Several workspaces may hold pending claims of one name (unique per workspace), but at most one
 * claim per name is verified: `verified_domain` is set to the name on verification and is unique, so
 * the database itself decides the race between two owners.
 *
 * Existing rows were routed without any proof: they all go back to `pending_verification` with a fresh
 * value, and their `frontline_routes` rows are removed until the owner publishes the record. Frozen.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("custom_domains")
    .addColumn("verification_value", "varchar(128)")
    .addColumn("verification_error", "text")
    .addColumn("verification_checked_at", "bigint")
    .addColumn("verified_at", "bigint")
    .addColumn("verified_domain", "varchar(255)")
    .execute();
  // The inline UNIQUE of 0001 on `domain` is named after its column.
  await sql`ALTER TABLE custom_domains DROP INDEX domain`.execute(db);
  await db.schema
    .createIndex("custom_domains_workspace_domain")
    .on("custom_domains")
    .columns(["workspace_id", "domain"])
    .unique()
    .execute();
  await db.schema.createIndex("custom_domains_verified_domain").on("custom_domains").column("verified_domain").unique().execute();
  await db.schema.createIndex("custom_domains_domain").on("custom_domains").column("domain").execute();

  const rows = await db.selectFrom("custom_domains").select(["id", "domain"]).execute();
  for (const row of rows as { id: string; domain: string }[]) {
    await db
      .updateTable("custom_domains")
      .set({
        verification_value: `ctrl-domain-verification=${randomBytes(24).toString("base64url")}`,
        verification_status: "pending_verification",
        verified_domain: null,
      })
      .where("id", "=", row.id)
      .execute();
    await db.deleteFrom("frontline_routes").where("fully_qualified_domain_name", "=", row.domain).execute();
  }
  await db.schema
    .alterTable("custom_domains")
    .modifyColumn("verification_value", "varchar(128)", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("custom_domains_domain").on("custom_domains").execute();
  await db.schema.dropIndex("custom_domains_verified_domain").on("custom_domains").execute();
  await db.schema.dropIndex("custom_domains_workspace_domain").on("custom_domains").execute();
  await db.schema.createIndex("domain").on("custom_domains").column("domain").unique().execute();
  await db
    .updateTable("custom_domains")
    .set({ verification_status: "pending" })
    .where("verification_status", "=", "pending_verification")
    .execute();
  for (const column of ["verified_domain", "verified_at", "verification_checked_at", "verification_error", "verification_value"]) {
    await db.schema.alterTable("custom_domains").dropColumn(column).execute();
  }
}
