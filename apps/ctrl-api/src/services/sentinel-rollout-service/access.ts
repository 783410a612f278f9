import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { principalKey } from "../../auth.js";

/** The root-key permission that grants fleet operations (exactly this string; no wildcard covers it). */
export const fleetRolloutPermission = "fleet.*.rollout";

/**
 * The one operator check of the fleet API (issue 12): the operator credential
 * (`CTRL_OPERATOR_TOKEN`) or a root key that carries the explicit permission
 * `fleet.*.rollout`. Workspace keys without it get `permission_denied`: a fleet rollout changes
 * every tenant's sentinel, so no project permission (not even `project.*.*`) implies it.
 * Returns who the caller is, for the rollout's `created_by`.
 */
export function requireOperator(ctx: HandlerContext): string {
  const principal = ctx.values.get(principalKey);
  if (!principal) throw new ConnectError("unauthenticated: send the operator credential as a bearer token", Code.Unauthenticated);
  if (principal.kind === "operator") return "operator";
  if (principal.kind === "root_key" && principal.permissions.includes(fleetRolloutPermission)) return `root_key:${principal.keyId}`;
  throw new ConnectError(
    `permission denied: fleet operations need the operator credential or a root key with ${fleetRolloutPermission}`,
    Code.PermissionDenied,
  );
}
