import type { ServiceImpl } from "@connectrpc/connect";
import type { SentinelRolloutService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { cancel, pause, resume, rollbackAll } from "./controls.js";
import { getRollout, listRollouts, watchRollout } from "./reads.js";
import { rollout } from "./rollout.js";

/** SentinelRolloutService (fleet rollouts of the sentinel image; operators only, see access.ts). */
export function createSentinelRolloutService(deps: ApiDeps): ServiceImpl<typeof SentinelRolloutService> {
  return {
    rollout: (req, ctx) => rollout(deps, req, ctx),
    pause: (_req, ctx) => pause(deps, ctx),
    resume: (req, ctx) => resume(deps, req, ctx),
    cancel: (_req, ctx) => cancel(deps, ctx),
    rollbackAll: (_req, ctx) => rollbackAll(deps, ctx),
    getRollout: (req, ctx) => getRollout(deps, req, ctx),
    listRollouts: (req, ctx) => listRollouts(deps, req, ctx),
    watchRollout: (req, ctx) => watchRollout(deps, req, ctx),
  };
}
