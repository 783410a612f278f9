import { Code, ConnectError } from "@connectrpc/connect";
import { newId } from "@ctrl/db";
import type { certificateRequestServiceName as CertificateRequestServiceNameConst, CertificateRequestResult, IssueCertificateRequest } from "@ctrl/ctrl-worker/api";
import { requireProjectAccess, type Principal } from "../../auth.js";
import { InvalidField } from "../../deployments/errors.js";
import type { ApiDeps } from "../../deps.js";
import { checkCustomDomain } from "./validate.js";

/**
 * The worker's `CertificateRequestService` name, checked against its contract at compile time. It is
 * the public door to issuance: `CertificateService` itself is ingress-private.
 */
export const certificateRequestServiceName: typeof CertificateRequestServiceNameConst = "CertificateRequestService";

/** The handler of the worker's `CertificateRequestService` (unkeyed) we call. */
export type CertificateRequestServiceShape = {
  issue: (ctx: unknown, request: IssueCertificateRequest) => Promise<CertificateRequestResult>;
};

/** Root-key permissions of the domain operations. */
export const domainPermissions = { add: "add_custom_domain", read: "read_custom_domain" } as const;

/** Platform apex when ApiDeps does not say (the worker's default too). */
export const DEFAULT_APEX_DOMAIN = "ctrl.localhost";

/** What callers see of a custom domain (RPC and public HTTP). */
export interface CustomDomainView {
  id: string;
  domain: string;
  projectId: string;
  environmentId: string;
  challengeType: "http-01" | "dns-01";
  verificationStatus: "pending" | "verified" | "failed";
  challengeStatus: "waiting" | "pending" | "verified" | "failed";
  errorMessage?: string;
  certificateExpiresAt?: number;
}

/** Input of {@link addCustomDomain}, already shaped by the RPC or HTTP front-end. */
export interface AddCustomDomainInput {
  projectId: string;
  environmentSlug: string;
  domain: string;
  /** Undefined: DNS-01 for a wildcard, HTTP-01 otherwise. */
  challengeType?: "http-01" | "dns-01";
}

/** Loads the view of a custom domain by name (undefined when unknown). */
export async function loadCustomDomainView(deps: ApiDeps, domain: string): Promise<(CustomDomainView & { workspaceId: string }) | undefined> {
  const row = await deps.db
    .selectFrom("custom_domains as d")
    .leftJoin("acme_challenges as c", "c.domain_id", "d.id")
    .leftJoin("certificates as cert", "cert.hostname", "d.domain")
    .select(["d.id", "d.domain", "d.workspace_id", "d.project_id", "d.environment_id", "d.challenge_type", "d.verification_status", "c.status as challenge_status", "c.error_message", "cert.expires_at"])
    .where("d.domain", "=", domain)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    domain: row.domain,
    workspaceId: row.workspace_id,
    projectId: row.project_id,
    environmentId: row.environment_id,
    challengeType: row.challenge_type,
    verificationStatus: row.verification_status,
    challengeStatus: row.challenge_status ?? "waiting",
    ...(row.error_message ? { errorMessage: row.error_message } : {}),
    ...(row.expires_at !== null && row.expires_at !== undefined ? { certificateExpiresAt: Number(row.expires_at) } : {}),
  };
}

/** Starts (or restarts) issuance on the worker: a one-way send, so the caller never waits for ACME. */
async function startIssuance(deps: ApiDeps, domain: string): Promise<void> {
  await deps.restate.serviceSendClient<CertificateRequestServiceShape>({ name: certificateRequestServiceName }).issue({ domain });
}

const isDuplicate = (err: unknown) => (err as { code?: string; errno?: number }).code === "ER_DUP_ENTRY" || (err as { errno?: number }).errno === 1062;

/**
 * Attaches a custom domain to a project environment: validates it, inserts the domain, its
 * `waiting` challenge and (when the environment has a deployment) a `frontline_routes` row with
 * sticky `environment` pointing where the environment's domain points, all in one transaction; then
 * starts `CertificateService.processChallenge` (through `CertificateRequestService.issue`). If starting fails, the challenge stays `waiting`
 * and the daily renewal job picks it up.
 */
export async function addCustomDomain(deps: ApiDeps, principal: Principal | undefined, input: AddCustomDomainInput): Promise<CustomDomainView> {
  if (!input.projectId.trim()) throw new InvalidField("project_id", "projectId", "required");
  if (!input.environmentSlug.trim()) throw new InvalidField("environment_slug", "environmentSlug", "required");
  const project = await deps.db.selectFrom("projects").select(["id", "workspace_id"]).where("id", "=", input.projectId.trim()).executeTakeFirst();
  requireProjectAccess(principal, project, domainPermissions.add, `project ${input.projectId} not found`);
  const checked = checkCustomDomain(input.domain, deps.apexDomain ?? DEFAULT_APEX_DOMAIN);
  if (!checked.ok) throw new InvalidField("domain", "domain", checked.reason);
  const challengeType = input.challengeType ?? (checked.wildcard ? "dns-01" : "http-01");
  if (checked.wildcard && challengeType !== "dns-01") throw new InvalidField("challenge_type", "challengeType", "a wildcard domain can only be verified with DNS-01");
  const environment = await deps.db
    .selectFrom("environments")
    .select(["id"])
    .where("project_id", "=", project!.id)
    .where("slug", "=", input.environmentSlug.trim())
    .executeTakeFirst();
  if (!environment) throw new ConnectError(`environment ${input.environmentSlug} not found in project ${project!.id}`, Code.NotFound);

  const now = (deps.now ?? Date.now)();
  const domainId = newId("dom");
  try {
    await deps.db.transaction().execute(async (trx) => {
      const taken = await trx.selectFrom("frontline_routes").select("id").where("fully_qualified_domain_name", "=", checked.domain).executeTakeFirst();
      if (taken) throw new ConnectError(`domain ${checked.domain} is already in use`, Code.AlreadyExists);
      await trx
        .insertInto("custom_domains")
        .values({ id: domainId, workspace_id: project!.workspace_id, project_id: project!.id, environment_id: environment.id, domain: checked.domain, challenge_type: challengeType, verification_status: "pending", created_at: now, updated_at: now })
        .execute();
      await trx
        .insertInto("acme_challenges")
        .values({ id: newId("chal"), workspace_id: project!.workspace_id, domain_id: domainId, token: null, authorization: null, type: challengeType, status: "waiting", error_message: null, expires_at: null, created_at: now, updated_at: now })
        .execute();
      // Route like the environment's own domain: where its sticky `environment` route points now.
      const current = await trx
        .selectFrom("frontline_routes")
        .select("deployment_id")
        .where("project_id", "=", project!.id)
        .where("environment_id", "=", environment.id)
        .where("sticky", "=", "environment")
        .orderBy("updated_at", "desc")
        .executeTakeFirst();
      if (current) {
        await trx
          .insertInto("frontline_routes")
          .values({ id: newId("route"), workspace_id: project!.workspace_id, project_id: project!.id, environment_id: environment.id, deployment_id: current.deployment_id, fully_qualified_domain_name: checked.domain, sticky: "environment", created_at: now, updated_at: now })
          .execute();
      }
    });
  } catch (err) {
    if (isDuplicate(err)) throw new ConnectError(`domain ${checked.domain} is already attached`, Code.AlreadyExists);
    throw err;
  }
  try {
    await startIssuance(deps, checked.domain);
  } catch (err) {
    deps.logger.warn({ domain: checked.domain, domainId, err: (err as Error).message }, "could not start certificate issuance; the renewal job will pick the waiting challenge up");
  }
  deps.logger.info({ domain: checked.domain, domainId, projectId: project!.id, environmentId: environment.id, challengeType }, "custom domain added");
  const { workspaceId: _ws, ...view } = (await loadCustomDomainView(deps, checked.domain))!;
  return view;
}

/** Loads a domain the principal may act on (`not_found` for unknown or another workspace's). */
async function authorizedDomain(deps: ApiDeps, principal: Principal | undefined, domainInput: string, action: string) {
  const name = domainInput.trim().toLowerCase().replace(/\.$/, "");
  if (!name) throw new InvalidField("domain", "domain", "required");
  const view = await loadCustomDomainView(deps, name);
  const project = view ? { id: view.projectId, workspace_id: view.workspaceId } : undefined;
  requireProjectAccess(principal, project, action, `custom domain ${name} not found`);
  return view!;
}

/** The custom domain's state (verification, challenge, certificate expiry). */
export async function getCustomDomain(deps: ApiDeps, principal: Principal | undefined, domain: string): Promise<CustomDomainView> {
  const { workspaceId: _ws, ...view } = await authorizedDomain(deps, principal, domain, domainPermissions.read);
  return view;
}

/**
 * Starts issuance again for a domain whose challenge failed (after the user fixed DNS or routing):
 * resets the challenge to `waiting` and sends `processChallenge`. `failed_precondition` unless failed.
 */
export async function retryCustomDomain(deps: ApiDeps, principal: Principal | undefined, domain: string): Promise<CustomDomainView> {
  const view = await authorizedDomain(deps, principal, domain, domainPermissions.add);
  const now = (deps.now ?? Date.now)();
  const reset = await deps.db
    .updateTable("acme_challenges")
    .set({ status: "waiting", updated_at: now })
    .where("domain_id", "=", view.id)
    .where("status", "=", "failed")
    .executeTakeFirst();
  if (Number(reset.numUpdatedRows) === 0) {
    throw new ConnectError(`custom domain ${view.domain} has challenge status ${view.challengeStatus}; only a failed one can be retried`, Code.FailedPrecondition);
  }
  await deps.db.updateTable("custom_domains").set({ verification_status: "pending", updated_at: now }).where("id", "=", view.id).execute();
  try {
    await startIssuance(deps, view.domain);
  } catch (err) {
    deps.logger.warn({ domain: view.domain, domainId: view.id, err: (err as Error).message }, "could not start certificate issuance; the renewal job will pick the waiting challenge up");
  }
  deps.logger.info({ domain: view.domain, domainId: view.id }, "custom domain retry requested");
  const { workspaceId: _ws, ...fresh } = (await loadCustomDomainView(deps, view.domain))!;
  return fresh;
}
