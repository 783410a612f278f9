import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { GetRolloutPolicyRequest, GetRolloutPolicyResponseSchema } from "@ctrl/proto";
import { policyFromJson } from "@ctrl/rollout";
import { principalKey } from "../../auth.js";
import { deploymentPermissions } from "../../deployment-model/access.js";
import { policyWire } from "../../deployment-model/rollout-policy.js";
import type { ApiDeps } from "../../deps.js";
import { authorizeEnvironment } from "./access.js";

/**
 * EnvironmentService.GetRolloutPolicy: the policy new deployments of the environment get, with the
 * defaults filled in; `is_default` when the environment never set one (permission `read_rollout_policy`).
 */
export async function getRolloutPolicy(
  deps: ApiDeps,
  req: GetRolloutPolicyRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof GetRolloutPolicyResponseSchema>> {
  const environment = await authorizeEnvironment(
    deps.db,
    ctx.values.get(principalKey),
    req.projectId,
    req.environmentSlug,
    deploymentPermissions.readRolloutPolicy,
  );
  return { policy: policyWire(policyFromJson(environment.rollout_policy)), isDefault: environment.rollout_policy === null };
}
