// Long because it holds every query of custom_domains (one file per table).
import { createHash, randomBytes } from "node:crypto";
import { sql, type Kysely, type Transaction } from "kysely";
import type { Db } from "../pool.js";
import type { Database } from "../schema.js";
import type { AcmeChallenge } from "../tables/acme-challenges.js";
import type { Certificate } from "../tables/certificates.js";
import type { CustomDomain, NewCustomDomain } from "../tables/custom-domains.js";

type DbOrTrx = Db | Transaction<Database>;

/** Label of the ownership record, beside the domain: `_ctrl-challenge.<domain>`. */
export const verificationRecordLabel = "_ctrl-challenge";

/**
 * Where the owner publishes the TXT record proving control of `domain`: `_ctrl-challenge.<domain>`,
 * and for a wildcard `*.example.com` at `_ctrl-challenge.example.com` (control of the zone).
 */
export function verificationRecordName(domain: string): string {
  return `${verificationRecordLabel}.${domain.replace(/^\*\./, "")}`;
}

/** A fresh TXT value for a new claim (random, so one claim's record never proves another's). */
export function newVerificationValue(): string {
  return `ctrl-domain-verification=${randomBytes(24).toString("base64url")}`;
}

/** The name one label up (`a.b.c` → `b.c`), or undefined for a name of two labels or fewer. */
function parentOf(name: string): string | undefined {
  const labels = name.split(".");
  return labels.length > 2 ? labels.slice(1).join(".") : undefined;
}

/**
 * The verified names another workspace owns that `domain` overlaps with, which make a claim of
 * `domain` by `workspaceId` impossible. The rule (first to verify wins, in both directions):
 * - the same name;
 * - for a wildcard `*.b`: any exact `x.b` (one label under `b`, what the wildcard would serve);
 * - for an exact `x.b`: the wildcard `*.b` that would serve it.
 * Names of the same workspace never conflict. Returns the first conflicting name, or undefined.
 */
export async function ownershipConflict(db: DbOrTrx, workspaceId: string, domain: string): Promise<string | undefined> {
  const wildcard = domain.startsWith("*.");
  const base = domain.slice(2);
  const candidates = new Set<string>([domain]);
  if (!wildcard) {
    const parent = parentOf(domain);
    if (parent) candidates.add(`*.${parent}`);
  }
  const exact = await db
    .selectFrom("custom_domains")
    .select("verified_domain")
    .where("verified_domain", "in", [...candidates])
    .where("workspace_id", "!=", workspaceId)
    .executeTakeFirst();
  if (exact?.verified_domain) return exact.verified_domain;
  if (!wildcard) return undefined;
  const under = await db
    .selectFrom("custom_domains")
    .select("verified_domain")
    .where("verified_domain", "like", `%.${base.replace(/[\\%_]/g, (c) => `\\${c}`)}`)
    .where("workspace_id", "!=", workspaceId)
    .execute();
  // One label exactly: `x.b`, not `y.x.b` (a wildcard covers one label) and not `*.b` (checked above).
  return under.map((r) => r.verified_domain!).find((name) => !name.slice(0, -(base.length + 1)).includes(".") && !name.startsWith("*."));
}

/** Outcome of {@link markDomainVerified}. */
export type MarkVerifiedResult =
  | { outcome: "verified"; claim: CustomDomain }
  | { outcome: "already_verified"; claim: CustomDomain }
  | { outcome: "conflict"; reason: string }
  | { outcome: "not_pending"; status: string }
  | { outcome: "gone" };

/** The named lock that serialises verifications of names that can overlap (`x.b`, `*.b` → `b`). */
function overlapLockName(domain: string): string {
  const key = domain.startsWith("*.") ? domain.slice(2) : (parentOf(domain) ?? domain);
  // MySQL lock names are at most 64 characters.
  return `ctrl-domain:${createHash("sha1").update(key).digest("hex")}`;
}

/**
 * Marks the claim `claimId` verified after its TXT record was seen, unless another workspace owns
 * an overlapping verified name ({@link ownershipConflict}), in which case the claim fails with that
 * reason. Verifications of names that can overlap run one at a time (a named lock held until after
 * the commit), and `verified_domain` is unique, so of two owners racing exactly one wins. Other
 * workspaces' pending claims of the same name fail at once with the reason.
 */
export async function markDomainVerified(db: Db, claimId: string, now: number): Promise<MarkVerifiedResult> {
  const claim0 = await db.selectFrom("custom_domains").select("domain").where("id", "=", claimId).executeTakeFirst();
  if (!claim0) return { outcome: "gone" };
  const lock = overlapLockName(claim0.domain);
  return db.connection().execute(async (conn: Kysely<Database>) => {
    const got = await sql<{ got: number | null }>`SELECT GET_LOCK(${lock}, 30) AS got`.execute(conn);
    if (Number(got.rows[0]?.got) !== 1) throw new Error(`could not take the verification lock of ${claim0.domain} within 30 s`);
    try {
      return await conn.transaction().execute(async (trx): Promise<MarkVerifiedResult> => {
        const claim = await trx.selectFrom("custom_domains").selectAll().where("id", "=", claimId).forUpdate().executeTakeFirst();
        if (!claim) return { outcome: "gone" };
        if (claim.verification_status === "verified") return { outcome: "already_verified", claim };
        if (claim.verification_status !== "pending_verification") return { outcome: "not_pending", status: claim.verification_status };
        const conflict = await ownershipConflict(trx, claim.workspace_id, claim.domain);
        if (conflict) {
          const reason =
            conflict === claim.domain
              ? `${claim.domain} was verified by another workspace first; a verified domain belongs to one workspace`
              : `${claim.domain} overlaps ${conflict}, verified by another workspace first (a wildcard and the names it covers belong to one workspace)`;
          await trx
            .updateTable("custom_domains")
            .set({ verification_status: "failed", verification_error: reason, verification_checked_at: now, updated_at: now })
            .where("id", "=", claimId)
            .execute();
          return { outcome: "conflict", reason };
        }
        await trx
          .updateTable("custom_domains")
          .set({
            verification_status: "verified",
            verified_domain: claim.domain,
            verified_at: now,
            verification_error: null,
            verification_checked_at: now,
            updated_at: now,
          })
          .where("id", "=", claimId)
          .execute();
        await trx
          .updateTable("custom_domains")
          .set({
            verification_status: "failed",
            verification_error: `${claim.domain} was verified by another workspace first; a verified domain belongs to one workspace`,
            updated_at: now,
          })
          .where("domain", "=", claim.domain)
          .where("id", "!=", claimId)
          .where("verification_status", "=", "pending_verification")
          .execute();
        return {
          outcome: "verified",
          claim: { ...claim, verification_status: "verified", verified_domain: claim.domain, verified_at: now, verification_error: null },
        };
      });
    } finally {
      await sql`SELECT RELEASE_LOCK(${lock})`.execute(conn);
    }
  });
}

/** Records a lookup that did not (yet) find the value: the reason users see, and when it was. */
export async function recordVerificationCheck(db: DbOrTrx, claimId: string, reason: string, failed: boolean, now: number): Promise<void> {
  await db
    .updateTable("custom_domains")
    .set({
      verification_error: reason,
      verification_checked_at: now,
      updated_at: now,
      ...(failed ? { verification_status: "failed" as const } : {}),
    })
    .where("id", "=", claimId)
    .where("verification_status", "=", "pending_verification")
    .execute();
}

/** Bumps a custom domain's `updated_at` (its challenge or certificate changed). */
export async function touchCustomDomain(db: DbOrTrx, domainId: string, now: number): Promise<void> {
  await db.updateTable("custom_domains").set({ updated_at: now }).where("id", "=", domainId).execute();
}

/** The custom domain claim with `id`, or undefined. */
export async function findCustomDomain(db: DbOrTrx, claimId: string): Promise<CustomDomain | undefined> {
  return db.selectFrom("custom_domains").selectAll().where("id", "=", claimId).executeTakeFirst();
}

/** Whether a claim exists with that id or, given `{ domain }`, of that name (any workspace, any status). */
export async function customDomainExists(db: DbOrTrx, by: { id: string } | { domain: string }): Promise<boolean> {
  const query = db.selectFrom("custom_domains").select("id");
  const row = await ("id" in by ? query.where("id", "=", by.id) : query.where("domain", "=", by.domain)).executeTakeFirst();
  return row !== undefined;
}

/** The names of the environment's verified custom domains, sorted (what its routes follow). */
export async function listVerifiedCustomDomainNames(db: DbOrTrx, environmentId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("custom_domains")
    .select("domain")
    .where("environment_id", "=", environmentId)
    .where("verification_status", "=", "verified")
    .orderBy("domain")
    .execute();
  return rows.map((r) => r.domain);
}

/** A claim with its challenge's status and error and, once verified, its certificate's expiry. */
export type CustomDomainClaimRow = Pick<
  CustomDomain,
  | "id"
  | "domain"
  | "workspace_id"
  | "project_id"
  | "environment_id"
  | "challenge_type"
  | "verification_status"
  | "verification_value"
  | "verification_error"
  | "verified_at"
> & {
  challenge_status: AcmeChallenge["status"] | null;
  error_message: AcmeChallenge["error_message"];
  expires_at: Certificate["expires_at"] | null;
};

/** Claims with their challenge's state and, for the verified one, its certificate's expiry. */
function claimsQuery(db: DbOrTrx) {
  return (
    db
      .selectFrom("custom_domains as d")
      .leftJoin("acme_challenges as c", "c.domain_id", "d.id")
      // Only the verified claim has a certificate (certificates are per hostname).
      .leftJoin("certificates as cert", "cert.hostname", "d.verified_domain")
      .select([
        "d.id",
        "d.domain",
        "d.workspace_id",
        "d.project_id",
        "d.environment_id",
        "d.challenge_type",
        "d.verification_status",
        "d.verification_value",
        "d.verification_error",
        "d.verified_at",
        "c.status as challenge_status",
        "c.error_message",
        "cert.expires_at",
      ])
  );
}

/**
 * One claim of `domain` (undefined when unknown): the claim of `workspaceId` when given (several
 * workspaces may claim one name), else the verified claim, else the oldest one.
 */
export async function findCustomDomainClaim(db: DbOrTrx, domain: string, workspaceId?: string): Promise<CustomDomainClaimRow | undefined> {
  let query = claimsQuery(db).where("d.domain", "=", domain);
  if (workspaceId !== undefined) query = query.where("d.workspace_id", "=", workspaceId);
  return query.orderBy("d.verified_domain", "desc").orderBy("d.created_at").executeTakeFirst();
}

/** Inserts a claim row (its challenge is inserted beside it, see `insertAcmeChallenge`). */
export async function insertCustomDomain(db: DbOrTrx, claim: NewCustomDomain): Promise<void> {
  await db.insertInto("custom_domains").values(claim).execute();
}

/** Puts a claim that is pending or failed back to `pending_verification` with no error (a retry). */
export async function reopenCustomDomainVerification(db: DbOrTrx, claimId: string, now: number): Promise<void> {
  await db
    .updateTable("custom_domains")
    .set({ verification_status: "pending_verification", verification_error: null, updated_at: now })
    .where("id", "=", claimId)
    .where("verification_status", "in", ["pending_verification", "failed"])
    .execute();
}

/** A claim as listed: {@link CustomDomainClaimRow} plus whether frontline routes its name now. */
export interface ListedCustomDomainClaim extends CustomDomainClaimRow {
  routed: boolean;
}

/** The project's claims (of one environment when given), by name, each with its routing state. */
export async function listCustomDomainClaimsOfProject(
  db: DbOrTrx,
  projectId: string,
  environmentId?: string,
): Promise<ListedCustomDomainClaim[]> {
  let query = claimsQuery(db)
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom("frontline_routes as r")
            .select("r.id")
            .whereRef("r.fully_qualified_domain_name", "=", "d.domain")
            .whereRef("r.project_id", "=", "d.project_id"),
        )
        .as("routed"),
    )
    .where("d.project_id", "=", projectId);
  if (environmentId !== undefined) query = query.where("d.environment_id", "=", environmentId);
  const rows = await query.orderBy("d.domain").execute();
  return rows.map((r) => ({ ...r, routed: Boolean(Number(r.routed)) }));
}

/** What {@link deleteCustomDomain} removed. */
export interface DeletedCustomDomain {
  domain: string;
  routesRemoved: number;
  certificatesRemoved: number;
}

/**
 * Removes a claim and everything it brought, in one transaction: its challenge, and — when it is
 * the verified claim — the name's frontline routes of its project and the name's certificate (no
 * other claim can use them: a verified name belongs to one claim). A pending claim of a name
 * another workspace verified removes only itself. Undefined when the claim does not exist.
 */
export async function deleteCustomDomain(db: Db, claimId: string): Promise<DeletedCustomDomain | undefined> {
  return db.transaction().execute(async (trx) => {
    const claim = await trx
      .selectFrom("custom_domains")
      .select(["id", "domain", "project_id", "verified_domain"])
      .where("id", "=", claimId)
      .forUpdate()
      .executeTakeFirst();
    if (!claim) return undefined;
    let routesRemoved = 0;
    let certificatesRemoved = 0;
    if (claim.verified_domain !== null) {
      const routes = await trx
        .deleteFrom("frontline_routes")
        .where("fully_qualified_domain_name", "=", claim.domain)
        .where("project_id", "=", claim.project_id)
        .executeTakeFirst();
      routesRemoved = Number(routes.numDeletedRows);
      const certs = await trx.deleteFrom("certificates").where("hostname", "=", claim.domain).executeTakeFirst();
      certificatesRemoved = Number(certs.numDeletedRows);
    }
    await trx.deleteFrom("acme_challenges").where("domain_id", "=", claim.id).execute();
    await trx.deleteFrom("custom_domains").where("id", "=", claim.id).execute();
    return { domain: claim.domain, routesRemoved, certificatesRemoved };
  });
}
