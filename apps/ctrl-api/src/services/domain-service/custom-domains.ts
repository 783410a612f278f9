// Long because add, get, retry, list and remove of a custom domain share its view, validation and access checks.
import { Code, ConnectError } from "@connectrpc/connect";
import {
  deleteCustomDomain,
  findCustomDomainClaim,
  findEnvironmentBySlug,
  findProjectById,
  findRouteIdByHostname,
  insertAcmeChallenge,
  insertCustomDomain,
  listCustomDomainClaimsOfProject,
  newId,
  newVerificationValue,
  ownershipConflict,
  reopenCustomDomainVerification,
  resetFailedChallenge,
  verificationRecordName,
  type CustomDomainClaimRow,
  type DomainVerificationStatus,
} from "@ctrl/db";
import type { CertificateRequestServiceApi } from "@ctrl/ctrl-worker/api";
import { certificateRequestServiceName } from "@ctrl/ctrl-worker/contract";
import { requireProjectAccess, type Principal } from "../../auth.js";
import { InvalidField } from "../../deployment-model/errors.js";
import type { ApiDeps } from "../../deps.js";
import { checkCustomDomain } from "./validate.js";

/** Root-key permissions of the domain operations. */
export const domainPermissions = { add: "add_custom_domain", read: "read_custom_domain", remove: "remove_custom_domain" } as const;

/** Platform apex when ApiDeps does not say (the worker's default too). */
export const DEFAULT_APEX_DOMAIN = "ctrl.localhost";

/** What callers see of a custom domain (RPC and public HTTP). */
export interface CustomDomainView {
  id: string;
  domain: string;
  projectId: string;
  environmentId: string;
  challengeType: "http-01" | "dns-01";
  /** Ownership: the TXT record was not seen yet, was seen (this claim owns the name), or gave up. */
  verificationStatus: DomainVerificationStatus;
  /** The record the owner creates; nothing is routed or certified before it is seen. */
  verificationRecord: { name: string; type: "TXT"; value: string };
  verificationError?: string;
  verifiedAt?: number;
  challengeStatus: "waiting" | "pending" | "verified" | "failed";
  /** One word: pending_verification | verification_failed | issuing | active | certificate_failed. */
  state: CustomDomainState;
  errorMessage?: string;
  certificateExpiresAt?: number;
  /** Whether frontline routes the name now (set by {@link listCustomDomains}). */
  routed?: boolean;
}

/** The overall state of a custom domain, ownership first, then its certificate. */
export type CustomDomainState = "pending_verification" | "verification_failed" | "issuing" | "active" | "certificate_failed";

function stateOf(verification: DomainVerificationStatus, challenge: CustomDomainView["challengeStatus"]): CustomDomainState {
  if (verification === "pending_verification") return "pending_verification";
  if (verification === "failed") return "verification_failed";
  if (challenge === "verified") return "active";
  if (challenge === "failed") return "certificate_failed";
  return "issuing";
}

/** Input of {@link addCustomDomain}, already shaped by the RPC or HTTP front-end. */
export interface AddCustomDomainInput {
  projectId: string;
  environmentSlug: string;
  domain: string;
  /** Undefined: DNS-01 for a wildcard, HTTP-01 otherwise. */
  challengeType?: "http-01" | "dns-01";
}

/**
 * Loads the view of a claim of `domain` (undefined when unknown): the claim of `workspaceId` when
 * given (several workspaces may claim one name), else the verified claim, else the oldest one.
 */
export async function loadCustomDomainView(
  deps: ApiDeps,
  domain: string,
  workspaceId?: string,
): Promise<(CustomDomainView & { workspaceId: string }) | undefined> {
  const row = await findCustomDomainClaim(deps.db, domain, workspaceId);
  return row ? viewOf(row) : undefined;
}

/** The view of one claim row. */
function viewOf(row: CustomDomainClaimRow): CustomDomainView & { workspaceId: string } {
  const challengeStatus = row.challenge_status ?? "waiting";
  return {
    id: row.id,
    domain: row.domain,
    workspaceId: row.workspace_id,
    projectId: row.project_id,
    environmentId: row.environment_id,
    challengeType: row.challenge_type,
    verificationStatus: row.verification_status,
    verificationRecord: { name: verificationRecordName(row.domain), type: "TXT", value: row.verification_value },
    ...(row.verification_error ? { verificationError: row.verification_error } : {}),
    ...(row.verified_at !== null ? { verifiedAt: Number(row.verified_at) } : {}),
    challengeStatus,
    state: stateOf(row.verification_status, challengeStatus),
    ...(row.error_message ? { errorMessage: row.error_message } : {}),
    ...(row.expires_at !== null && row.expires_at !== undefined ? { certificateExpiresAt: Number(row.expires_at) } : {}),
  };
}

/**
 * Starts (or restarts) verification on the worker: a one-way send through the public
 * `CertificateRequestService.verifyDomain` (DomainVerificationService itself is ingress-private). If
 * it fails the claim stays `pending_verification` until `retryCustomDomain` arms it again.
 */
async function armVerification(deps: ApiDeps, claimId: string, domain: string): Promise<void> {
  try {
    await deps.restate.serviceSendClient<CertificateRequestServiceApi>({ name: certificateRequestServiceName }).verifyDomain({ claimId });
  } catch (err) {
    deps.logger.warn(
      { domain, domainId: claimId, err: (err as Error).message },
      "could not start domain verification; retryCustomDomain starts it again",
    );
  }
}

/** The 409 of a name another workspace owns, naming the rule. */
function ownedElsewhere(domain: string, conflict: string): ConnectError {
  return conflict === domain
    ? new ConnectError(`domain ${domain} is verified by another workspace: a verified domain belongs to one workspace`, Code.AlreadyExists)
    : new ConnectError(
        `domain ${domain} overlaps ${conflict}, verified by another workspace: a wildcard and the names directly under it belong to one workspace`,
        Code.AlreadyExists,
      );
}

/** Starts (or restarts) issuance on the worker: a one-way send, so the caller never waits for ACME. */
async function startIssuance(deps: ApiDeps, domain: string): Promise<void> {
  await deps.restate.serviceSendClient<CertificateRequestServiceApi>({ name: certificateRequestServiceName }).issue({ domain });
}

const isDuplicate = (err: unknown) =>
  (err as { code?: string; errno?: number }).code === "ER_DUP_ENTRY" || (err as { errno?: number }).errno === 1062;

/**
 * Claims a custom domain for a project environment: validates it, refuses a name another workspace
 * has verified (or that overlaps one: a wildcard and the names directly under it), and inserts the
 * claim `pending_verification` with a random TXT value and its `waiting` challenge, in one
 * transaction. Nothing is routed and nothing is sent to ACME: DomainVerificationService (armed
 * here) does both once `_ctrl-challenge.<domain>` holds the value. Several workspaces may hold
 * pending claims of one name; the first to verify wins.
 */
export async function addCustomDomain(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: AddCustomDomainInput,
): Promise<CustomDomainView> {
  // Long because the checks and the insert are one transaction, read top to bottom in the order they must happen.
  if (!input.projectId.trim()) throw new InvalidField("project_id", "projectId", "required");
  if (!input.environmentSlug.trim()) throw new InvalidField("environment_slug", "environmentSlug", "required");
  const project = await findProjectById(deps.db, input.projectId.trim());
  requireProjectAccess(principal, project, domainPermissions.add, `project ${input.projectId} not found`);
  const checked = checkCustomDomain(input.domain, deps.apexDomain ?? DEFAULT_APEX_DOMAIN);
  if (!checked.ok) throw new InvalidField("domain", "domain", checked.reason);
  const challengeType = input.challengeType ?? (checked.wildcard ? "dns-01" : "http-01");
  if (checked.wildcard && challengeType !== "dns-01")
    throw new InvalidField("challenge_type", "challengeType", "a wildcard domain can only be verified with DNS-01");
  const environment = await findEnvironmentBySlug(deps.db, project!.id, input.environmentSlug.trim());
  if (!environment) throw new ConnectError(`environment ${input.environmentSlug} not found in project ${project!.id}`, Code.NotFound);

  const now = (deps.now ?? Date.now)();
  const domainId = newId("dom");
  try {
    await deps.db.transaction().execute(async (trx) => {
      const conflict = await ownershipConflict(trx, project!.workspace_id, checked.domain);
      if (conflict) throw ownedElsewhere(checked.domain, conflict);
      // A platform hostname, or a name this workspace already routes elsewhere.
      const taken = await findRouteIdByHostname(trx, checked.domain);
      if (taken) throw new ConnectError(`domain ${checked.domain} is already in use`, Code.AlreadyExists);
      await insertCustomDomain(trx, {
        id: domainId,
        workspace_id: project!.workspace_id,
        project_id: project!.id,
        environment_id: environment.id,
        domain: checked.domain,
        challenge_type: challengeType,
        verification_status: "pending_verification",
        verification_value: newVerificationValue(),
        verification_error: null,
        verification_checked_at: null,
        verified_at: null,
        verified_domain: null,
        created_at: now,
        updated_at: now,
      });
      await insertAcmeChallenge(trx, {
        id: newId("chal"),
        workspace_id: project!.workspace_id,
        domain_id: domainId,
        token: null,
        authorization: null,
        type: challengeType,
        status: "waiting",
        error_message: null,
        expires_at: null,
        created_at: now,
        updated_at: now,
      });
    });
  } catch (err) {
    if (isDuplicate(err)) throw new ConnectError(`domain ${checked.domain} is already attached in this workspace`, Code.AlreadyExists);
    throw err;
  }
  await armVerification(deps, domainId, checked.domain);
  deps.logger.info(
    { domain: checked.domain, domainId, projectId: project!.id, environmentId: environment.id, challengeType },
    "custom domain claimed; waiting for its TXT record",
  );
  const { workspaceId: _ws, ...view } = (await loadCustomDomainView(deps, checked.domain, project!.workspace_id))!;
  return view;
}

/** Loads a domain the principal may act on (`not_found` for unknown or another workspace's). */
async function authorizedDomain(deps: ApiDeps, principal: Principal | undefined, domainInput: string, action: string) {
  const name = domainInput.trim().toLowerCase().replace(/\.$/, "");
  if (!name) throw new InvalidField("domain", "domain", "required");
  const view = await loadCustomDomainView(deps, name, principal?.kind === "root_key" ? principal.workspaceId : undefined);
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
 * Tries again: a claim still pending or failed verification gets a fresh recheck window (back to
 * `pending_verification`, a new `arm`); a verified domain whose certificate challenge failed gets
 * its challenge reset to `waiting` and issuance restarted. `failed_precondition` otherwise.
 */
export async function retryCustomDomain(deps: ApiDeps, principal: Principal | undefined, domain: string): Promise<CustomDomainView> {
  const view = await authorizedDomain(deps, principal, domain, domainPermissions.add);
  const now = (deps.now ?? Date.now)();
  if (view.verificationStatus !== "verified") {
    const conflict = await ownershipConflict(deps.db, view.workspaceId, view.domain);
    if (conflict) throw ownedElsewhere(view.domain, conflict);
    await reopenCustomDomainVerification(deps.db, view.id, now);
    await armVerification(deps, view.id, view.domain);
    deps.logger.info({ domain: view.domain, domainId: view.id }, "custom domain verification re-armed");
  } else {
    if (!(await resetFailedChallenge(deps.db, view.id, now))) {
      throw new ConnectError(
        `custom domain ${view.domain} is verified and has challenge status ${view.challengeStatus}; only a failed challenge or an unverified domain can be retried`,
        Code.FailedPrecondition,
      );
    }
    try {
      await startIssuance(deps, view.domain);
    } catch (err) {
      deps.logger.warn(
        { domain: view.domain, domainId: view.id, err: (err as Error).message },
        "could not start certificate issuance; the renewal job will pick the waiting challenge up",
      );
    }
    deps.logger.info({ domain: view.domain, domainId: view.id }, "custom domain certificate retry requested");
  }
  const { workspaceId: _ws, ...fresh } = (await loadCustomDomainView(deps, view.domain, view.workspaceId))!;
  return fresh;
}

/**
 * The project's custom domains (of one environment when `environmentSlug` is given), by name, each
 * with its verification, certificate and routing state (permission `read_custom_domain`).
 */
export async function listCustomDomains(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: { projectId: string; environmentSlug: string },
): Promise<CustomDomainView[]> {
  if (!input.projectId.trim()) throw new InvalidField("project_id", "projectId", "required");
  const project = await findProjectById(deps.db, input.projectId.trim());
  requireProjectAccess(principal, project, domainPermissions.read, `project ${input.projectId.trim()} not found`);
  let environmentId: string | undefined;
  if (input.environmentSlug.trim()) {
    const environment = await findEnvironmentBySlug(deps.db, project!.id, input.environmentSlug.trim());
    if (!environment)
      throw new ConnectError(`environment ${input.environmentSlug.trim()} not found in project ${project!.id}`, Code.NotFound);
    environmentId = environment.id;
  }
  const rows = await listCustomDomainClaimsOfProject(deps.db, project!.id, environmentId);
  return rows.map((row) => {
    const { workspaceId: _ws, ...view } = viewOf(row);
    return { ...view, routed: row.routed };
  });
}

/**
 * Removes a custom domain (permission `remove_custom_domain`): its claim, its challenge, and when it
 * was verified its routes (frontline stops serving it) and its certificate; nothing is left behind.
 * A verification or issuance still scheduled on the worker finds the claim gone and stops.
 */
export async function removeCustomDomain(
  deps: ApiDeps,
  principal: Principal | undefined,
  domain: string,
): Promise<{ domain: string; routesRemoved: number; certificatesRemoved: number }> {
  const view = await authorizedDomain(deps, principal, domain, domainPermissions.remove);
  const removed = await deleteCustomDomain(deps.db, view.id);
  if (!removed) throw new ConnectError(`custom domain ${view.domain} not found`, Code.NotFound);
  deps.logger.info({ domainId: view.id, projectId: view.projectId, ...removed }, "custom domain removed");
  return removed;
}
