import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { SupervisorServiceApi } from "@ctrl/ctrl-worker/api";
import { supervisorServiceName } from "@ctrl/ctrl-worker/contract";
import { appendUpgradePlan, findUpgradePlan, haltsWaitingForPlan } from "@ctrl/db";
import type { SetUpgradePlanRequest, SetUpgradePlanResponseSchema } from "@ctrl/proto";
import * as clients from "@restatedev/restate-sdk-clients";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { planMessage, principalName, requirePlanName, resolvePlanScope } from "./scope.js";

/**
 * UpgradePlanService.SetUpgradePlan: appends a new version of the plan (the latest wins), then
 * wakes every halt of the environment waiting for that plan (`SupervisorService.resume`), so the
 * supervisor proceeds on its own.
 */
export async function setUpgradePlan(
  deps: ApiDeps,
  req: SetUpgradePlanRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof SetUpgradePlanResponseSchema>> {
  const principal = ctx.values.get(principalKey);
  const name = requirePlanName(req.name);
  const image = req.image.trim();
  if (!image || image.length > 2048 || /\s/.test(image))
    throw new ConnectError(
      "image is required: an image or artifact reference without spaces, at most 2048 characters",
      Code.InvalidArgument,
    );
  const minHeight = req.minHeight === undefined ? null : Number(req.minHeight);
  if (minHeight !== null && (!Number.isSafeInteger(minHeight) || minHeight < 0))
    throw new ConnectError("min_height must be a non-negative integer", Code.InvalidArgument);
  const scope = await resolvePlanScope(deps, principal, req.projectId, req.environmentSlug);
  const now = (deps.now ?? Date.now)();
  await appendUpgradePlan(deps.db, scope, { name, image, minHeight, createdBy: principalName(principal), now });
  const plan = await findUpgradePlan(deps.db, scope.projectId, scope.environmentId, name);
  const waiting = await haltsWaitingForPlan(deps.db, scope.projectId, scope.environmentId, name);
  for (const halt of waiting) {
    await deps.restate
      .objectSendClient<SupervisorServiceApi>({ name: supervisorServiceName }, halt.deployment_id)
      .resume(clients.rpc.sendOpts({ idempotencyKey: `resume:${halt.deployment_id}:${name}:${plan?.version ?? 0}` }));
  }
  deps.logger.info(
    { projectId: scope.projectId, environment: scope.environmentSlug, plan: name, version: plan?.version, resumed: waiting.length },
    "upgrade plan set",
  );
  return { ...(plan ? { plan: planMessage(plan) } : {}), resumedDeploymentIds: waiting.map((h) => h.deployment_id) };
}
