import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { SupervisorServiceApi } from "@ctrl/ctrl-worker/api";
import { supervisorServiceName } from "@ctrl/ctrl-worker/contract";
import { latestHaltOf } from "@ctrl/db";
import type { AcknowledgeHaltRequest, AcknowledgeHaltResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import { authorizeDeployment } from "../../deployment-model/access.js";
import { haltMessage } from "../../deployment-model/halt-view.js";
import type { ApiDeps } from "../../deps.js";
import { connectErrorFromRestate } from "../../restate-errors.js";
import { principalName } from "../upgrade-plan-service/scope.js";

/** Root-key permission of AcknowledgeHalt: `project.<id|*>.supervise_deployment`. */
export const superviseDeployment = "supervise_deployment";

/**
 * HaltService.AcknowledgeHalt (`ctrl supervise ack <id>`): a person takes the deployment's latest
 * halt over; the supervisor stops waiting and resolves the page. `not_found` without a halt.
 */
export async function acknowledgeHalt(
  deps: ApiDeps,
  req: AcknowledgeHaltRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof AcknowledgeHaltResponseSchema>> {
  const principal = ctx.values.get(principalKey);
  const owner = await authorizeDeployment(deps.db, principal, req.deploymentId, superviseDeployment);
  if (!(await latestHaltOf(deps.db, owner.id))) throw new ConnectError(`deployment ${owner.id} has not halted`, Code.NotFound);
  try {
    await deps.restate
      .objectClient<SupervisorServiceApi>({ name: supervisorServiceName }, owner.id)
      .acknowledge({ by: principalName(principal) });
  } catch (err) {
    throw connectErrorFromRestate(err, `acknowledging the halt of ${owner.id}`);
  }
  const halt = await latestHaltOf(deps.db, owner.id);
  deps.logger.info({ deploymentId: owner.id, state: halt?.state }, "halt acknowledged");
  return { ...(halt ? { halt: haltMessage(halt) } : {}) };
}
