import type { ServiceImpl } from "@connectrpc/connect";
import type { CtrlService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";

/** CtrlService.Liveness: no auth, answers `ok` with the build version and instance id. */
export function createCtrlService(deps: ApiDeps): ServiceImpl<typeof CtrlService> {
  return {
    liveness: () => ({ status: "ok", version: deps.version, instanceId: deps.instanceId }),
  };
}
