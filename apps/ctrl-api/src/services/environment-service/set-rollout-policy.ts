import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { writeEnvironmentPolicy } from "@ctrl/db";
import type { SetRolloutPolicyRequest, SetRolloutPolicyResponseSchema } from "@ctrl/proto";
import { defaultRolloutPolicy, policyToJson } from "@ctrl/rollout";
import { principalKey } from "../../auth.js";
import { deploymentPermissions } from "../../deployment-model/access.js";
import { policyWire, validatePolicyMessage } from "../../deployment-model/rollout-policy.js";
import type { ApiDeps } from "../../deps.js";
import { authorizeEnvironment } from "./access.js";

/**
 * EnvironmentService.SetRolloutPolicy (permission `write_rollout_policy`): validates the whole policy
 * (every broken field is `invalid_argument` naming `policy.<field>` and its rule) and stores it with
 * the defaults filled in; a request without `policy` goes back to the default. Deployments created
 * before keep the policy they were created with (it is snapshotted onto each deployment).
 */
export async function setRolloutPolicy(
  deps: ApiDeps,
  req: SetRolloutPolicyRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof SetRolloutPolicyResponseSchema>> {
  const policy = req.policy ? validatePolicyMessage(req.policy) : defaultRolloutPolicy;
  const environment = await authorizeEnvironment(
    deps.db,
    ctx.values.get(principalKey),
    req.projectId,
    req.environmentSlug,
    deploymentPermissions.writeRolloutPolicy,
  );
  await writeEnvironmentPolicy(deps.db, environment.id, req.policy ? policyToJson(policy) : null, (deps.now ?? Date.now)());
  deps.logger.info(
    { projectId: environment.project_id, environmentId: environment.id, strategy: policy.strategy, reset: !req.policy },
    "rollout policy set",
  );
  return { policy: policyWire(policy) };
}
