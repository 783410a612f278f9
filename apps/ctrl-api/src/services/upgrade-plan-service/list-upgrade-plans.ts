import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { listUpgradePlans as listPlans } from "@ctrl/db";
import type { ListUpgradePlansRequest, ListUpgradePlansResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { planMessage, resolvePlanScope } from "./scope.js";

/** UpgradePlanService.ListUpgradePlans: the current version of every plan of the environment that is not deleted, by name. */
export async function listUpgradePlans(
  deps: ApiDeps,
  req: ListUpgradePlansRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof ListUpgradePlansResponseSchema>> {
  const scope = await resolvePlanScope(deps, ctx.values.get(principalKey), req.projectId, req.environmentSlug);
  const plans = await listPlans(deps.db, scope.projectId, scope.environmentId);
  return { plans: plans.map(planMessage) };
}
