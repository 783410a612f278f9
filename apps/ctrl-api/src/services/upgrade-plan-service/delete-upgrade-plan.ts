import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { appendUpgradePlan, findUpgradePlan } from "@ctrl/db";
import type { DeleteUpgradePlanRequest, DeleteUpgradePlanResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { principalName, requirePlanName, resolvePlanScope } from "./scope.js";

/** UpgradePlanService.DeleteUpgradePlan: appends a tombstone version (history kept); `not_found` when no current plan has the name. */
export async function deleteUpgradePlan(
  deps: ApiDeps,
  req: DeleteUpgradePlanRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof DeleteUpgradePlanResponseSchema>> {
  const principal = ctx.values.get(principalKey);
  const name = requirePlanName(req.name);
  const scope = await resolvePlanScope(deps, principal, req.projectId, req.environmentSlug);
  if (!(await findUpgradePlan(deps.db, scope.projectId, scope.environmentId, name)))
    throw new ConnectError(`upgrade plan ${name} not found in ${scope.environmentSlug}`, Code.NotFound);
  const { version } = await appendUpgradePlan(deps.db, scope, {
    name,
    image: null,
    minHeight: null,
    createdBy: principalName(principal),
    now: (deps.now ?? Date.now)(),
  });
  deps.logger.info({ projectId: scope.projectId, environment: scope.environmentSlug, plan: name, version }, "upgrade plan deleted");
  return { version };
}
