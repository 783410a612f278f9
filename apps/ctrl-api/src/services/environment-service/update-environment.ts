import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { UpdateEnvironmentRequest, UpdateEnvironmentResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { updateEnvironment as update } from "../../resource-model/environments.js";
import { environmentWire } from "../../resource-model/views.js";

/** EnvironmentService.UpdateEnvironment (`write_environment`): the settings that are set. */
export async function updateEnvironment(
  deps: ApiDeps,
  req: UpdateEnvironmentRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof UpdateEnvironmentResponseSchema>> {
  const environment = await update(deps, ctx.values.get(principalKey), {
    projectId: req.projectId,
    environmentSlug: req.environmentSlug,
    ...(req.regions ? { regions: req.regions.regions } : {}),
    ...(req.replicas !== undefined ? { replicas: req.replicas } : {}),
    ...(req.cpuMillicores !== undefined ? { cpuMillicores: req.cpuMillicores } : {}),
    ...(req.memoryMib !== undefined ? { memoryMib: req.memoryMib } : {}),
    ...(req.healthCheckPath !== undefined ? { healthCheckPath: req.healthCheckPath } : {}),
  });
  return { environment: environmentWire(environment) };
}
