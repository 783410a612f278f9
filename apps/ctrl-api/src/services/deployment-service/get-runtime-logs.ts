import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { listRuntimeLogInstances, readRuntimeLogs } from "@ctrl/db";
import type { GetRuntimeLogsRequest, GetRuntimeLogsResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import { authorizeDeployment, deploymentPermissions } from "../../deployment-model/access.js";
import type { ApiDeps } from "../../deps.js";

const defaultLimit = 500;
const maxLimit = 5_000;

/**
 * DeploymentService.GetRuntimeLogs (ours): one page of what the deployment's instances printed on
 * stdout and stderr (`runtime_logs`, pushed by the agents with ClusterService.PushInstanceLogs), lines
 * with `seq > after_seq`, optionally since a time, of one instance, or the last `tail` lines. Kept
 * after the instances exit. Permission `read_deployment`.
 */
export async function getRuntimeLogs(
  deps: ApiDeps,
  req: GetRuntimeLogsRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof GetRuntimeLogsResponseSchema>> {
  const owner = await authorizeDeployment(deps.db, ctx.values.get(principalKey), req.deploymentId, deploymentPermissions.read);
  if (req.afterSeq < 0n) throw new ConnectError("after_seq must not be negative", Code.InvalidArgument);
  if (req.since < 0n) throw new ConnectError("since must not be negative (Unix milliseconds)", Code.InvalidArgument);
  if (req.limit < 0 || req.tail < 0) throw new ConnectError("limit and tail must not be negative", Code.InvalidArgument);
  const instances = await listRuntimeLogInstances(deps.db, owner.id);
  const instance = req.instance.trim();
  if (instance && !instances.includes(instance)) {
    const known = instances.length ? `its instances are ${instances.join(", ")}` : "none of its instances has printed anything yet";
    throw new ConnectError(`instance ${instance.slice(0, 255)} has no output in deployment ${owner.id}: ${known}`, Code.NotFound);
  }
  const tail = req.tail > 0 && req.afterSeq === 0n;
  const limit = Math.min(tail ? req.tail : req.limit === 0 ? defaultLimit : req.limit, maxLimit);
  const after = Number(req.afterSeq);
  const lines = await readRuntimeLogs(deps.db, owner.id, {
    afterSeq: after,
    since: Number(req.since),
    limit,
    tail,
    ...(instance ? { instance } : {}),
  });
  return {
    lines: lines.map((l) => ({
      seq: BigInt(l.id),
      instance: l.instance,
      region: l.region,
      line: l.line,
      observedAt: BigInt(l.observed_at),
    })),
    nextSeq: BigInt(lines.at(-1)?.id ?? after),
    instances,
  };
}
