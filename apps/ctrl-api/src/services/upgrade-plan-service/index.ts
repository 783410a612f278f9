import type { ServiceImpl } from "@connectrpc/connect";
import type { UpgradePlanService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { deleteUpgradePlan } from "./delete-upgrade-plan.js";
import { listUpgradePlans } from "./list-upgrade-plans.js";
import { setUpgradePlan } from "./set-upgrade-plan.js";

/** UpgradePlanService (docs/halt-contract.md): one file per method in this folder. */
export function createUpgradePlanService(deps: ApiDeps): ServiceImpl<typeof UpgradePlanService> {
  return {
    setUpgradePlan: (req, ctx) => setUpgradePlan(deps, req, ctx),
    listUpgradePlans: (req, ctx) => listUpgradePlans(deps, req, ctx),
    deleteUpgradePlan: (req, ctx) => deleteUpgradePlan(deps, req, ctx),
  };
}
