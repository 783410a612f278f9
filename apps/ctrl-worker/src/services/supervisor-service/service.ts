import * as restate from "@restatedev/restate-sdk";
import { supervisorServiceName } from "../../contract.js";
import type { WorkerDeps } from "../../deps.js";
import { resolveSettings } from "../../settings.js";
import { acknowledge } from "./acknowledge.js";
import type { AcknowledgeRequest, HaltOutcome, OnHaltRequest } from "./api.js";
import { onHalt } from "./on-halt.js";
import type { SupervisorDeps } from "./outcome.js";
import { resume } from "./resume.js";

/**
 * SupervisorService — virtual object, key = deployment id (docs/halt-contract.md). Exclusive
 * handlers, so the halts of one deployment are decided one at a time; ctrl-api calls them through
 * the ingress (the agent's report, SetUpgradePlan, AcknowledgeHalt).
 */
export function createSupervisorService(deps: WorkerDeps) {
  const supervisor: SupervisorDeps = { db: deps.db, settings: resolveSettings(deps.settings) };
  return restate.object({
    name: supervisorServiceName,
    handlers: {
      /** Acts on one reported halt of an instance: 70 upgrade, 71 roll back, 72 wait for a human. */
      onHalt: async (ctx: restate.ObjectContext, req: OnHaltRequest): Promise<HaltOutcome> => onHalt(ctx, supervisor, req),
      /** An upgrade plan was set: a halt waiting for one proceeds. */
      resume: async (ctx: restate.ObjectContext): Promise<HaltOutcome> => resume(ctx, supervisor),
      /** A person took the halt over. */
      acknowledge: async (ctx: restate.ObjectContext, req: AcknowledgeRequest): Promise<HaltOutcome> => acknowledge(ctx, supervisor, req),
    },
    // ctrl-api sends these through the ingress; every handler re-reads the deployment's rows.
    options: { ingressPrivate: false },
  });
}
