import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DeploymentHalt } from "@ctrl/db";
import type { DeploymentHaltSchema } from "@ctrl/proto";

/** The proto `DeploymentHalt` of a halt row (`Deployment.halt`, field 25). */
export function haltMessage(h: DeploymentHalt): MessageInitShape<typeof DeploymentHaltSchema> {
  return {
    reason: h.reason,
    planName: h.plan_name ?? "",
    height: BigInt(h.height ?? 0),
    info: h.info ?? "",
    exitCode: h.exit_code === null ? 0 : Number(h.exit_code),
    action: h.action,
    state: h.state,
    replacedByDeploymentId: h.replaced_by_deployment_id ?? "",
    condition: h.condition ?? "",
    message: h.message ?? "",
  };
}

/** The public API's `halt` object of `getDeployment` (absent fields left out). */
export function publicHalt(h: DeploymentHalt) {
  return {
    reason: h.reason,
    ...(h.plan_name ? { planName: h.plan_name } : {}),
    ...(h.height !== null ? { height: Number(h.height) } : {}),
    ...(h.info ? { info: h.info } : {}),
    ...(h.exit_code !== null ? { exitCode: Number(h.exit_code) } : {}),
    action: h.action,
    state: h.state,
    ...(h.replaced_by_deployment_id ? { replacedByDeploymentId: h.replaced_by_deployment_id } : {}),
    ...(h.condition ? { condition: h.condition } : {}),
    ...(h.message ? { message: h.message } : {}),
  };
}
