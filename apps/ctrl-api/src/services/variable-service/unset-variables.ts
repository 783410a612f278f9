import type { MessageInitShape } from "@bufbuild/protobuf";
import { deleteEnvironmentVariables } from "@ctrl/db";
import type { UnsetVariablesResponseSchema } from "@ctrl/proto";
import type { Principal } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { authorizeEnvironment } from "../environment-service/access.js";
import { variablePermissions } from "./access.js";
import { validateKeyList } from "./validate.js";

/**
 * VariableService.UnsetVariables (permission `write_variables`): removes the named variables; names
 * that do not exist come back in `missing`. Running deployments keep theirs in their snapshot.
 */
export async function unsetVariables(
  deps: ApiDeps,
  principal: Principal | undefined,
  req: { projectId: string; environmentSlug: string; keys: string[] },
): Promise<MessageInitShape<typeof UnsetVariablesResponseSchema>> {
  const keys = validateKeyList(req.keys, "keys");
  const environment = await authorizeEnvironment(deps.db, principal, req.projectId, req.environmentSlug, variablePermissions.write);
  const removed = await deleteEnvironmentVariables(deps.db, environment.id, keys);
  const missing = keys.filter((k) => !removed.includes(k)).sort();
  deps.logger.info({ projectId: environment.project_id, environmentId: environment.id, removed, missing }, "environment variables unset");
  return { removed, missing };
}
