import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { findEnvironmentRouteDeployment, upsertEnvironmentVariable } from "@ctrl/db";
import type { SetVariablesResponseSchema } from "@ctrl/proto";
import { vaultContext } from "@ctrl/vault";
import type { Principal } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { authorizeEnvironment } from "../environment-service/access.js";
import { variablePermissions } from "./access.js";
import { validateVariables } from "./validate.js";

/**
 * VariableService.SetVariables (permission `write_variables`): encrypts each value bound to
 * (environment, key) and inserts or replaces it, all in one transaction. Running deployments keep
 * their snapshot: the change takes effect on the next deployment; the response names the
 * environment's current deployment so the caller can say so (and offer a redeploy).
 */
export async function setVariables(
  deps: ApiDeps,
  principal: Principal | undefined,
  req: { projectId: string; environmentSlug: string; variables: { key: string; value: string }[] },
): Promise<MessageInitShape<typeof SetVariablesResponseSchema>> {
  const variables = validateVariables(req.variables.map((v) => ({ key: v.key, value: v.value })));
  const environment = await authorizeEnvironment(deps.db, principal, req.projectId, req.environmentSlug, variablePermissions.write);
  const vault = deps.vault;
  if (!vault)
    throw new ConnectError(
      "ctrl-api cannot encrypt variables: VAULT_MASTER_KEYS is not set (set it on ctrl-api, then retry)",
      Code.FailedPrecondition,
    );
  const now = (deps.now ?? Date.now)();
  await deps.db.transaction().execute(async (trx) => {
    for (const v of variables) {
      await upsertEnvironmentVariable(trx, {
        workspaceId: environment.workspace_id,
        environmentId: environment.id,
        key: v.key,
        encryptedValue: vault.encrypt(v.value, vaultContext.environmentVariable(environment.id, v.key)),
        now,
      });
    }
  });
  const live = await findEnvironmentRouteDeployment(deps.db, { projectId: environment.project_id, environmentId: environment.id }, "");
  const keys = variables.map((v) => v.key);
  deps.logger.info({ projectId: environment.project_id, environmentId: environment.id, keys }, "environment variables set");
  return { keys, liveDeploymentId: live ?? "" };
}
