import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { ResumeRolloutRequest, RolloutControlResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import { controlRollout } from "../../deployment-model/rollout-control.js";
import { rolloutMessage } from "../../deployment-model/rollout-view.js";
import type { ApiDeps } from "../../deps.js";

/** DeploymentService.ResumeRollout: continue a paused or blocked rollout; see `controlRollout` (permission `rollout_deployment`). */
export async function resumeRollout(
  deps: ApiDeps,
  req: ResumeRolloutRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof RolloutControlResponseSchema>> {
  return { rollout: rolloutMessage(await controlRollout(deps, ctx.values.get(principalKey), req.deploymentId, "resume")) };
}
