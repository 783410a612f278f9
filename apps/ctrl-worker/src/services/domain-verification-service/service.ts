import * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../deps.js";
import { domainVerificationServiceName, type ArmVerificationRequest, type CheckVerificationRequest } from "./api.js";
import { armVerification, checkVerification } from "./check.js";

/**
 * DomainVerificationService — virtual object, key = custom domain claim id. Proves that the owner of
 * a claim controls the name (a TXT record at `_ctrl-challenge.<domain>`) before it is routed or sent
 * to ACME. Each check is a short invocation that schedules the next one with a delayed send, so a
 * week-long window never holds the object; see check.ts.
 */
export function createDomainVerificationService(deps: WorkerDeps) {
  return restate.object({
    name: domainVerificationServiceName,
    handlers: {
      /** Starts (or restarts) verification now, with a fresh bounded window. */
      arm: async (ctx: restate.ObjectContext, _input: ArmVerificationRequest) => armVerification(deps, ctx),
      /** One scheduled recheck (sent by the service itself). */
      check: async (ctx: restate.ObjectContext, input: CheckVerificationRequest) => checkVerification(deps, ctx, input?.generation ?? -1),
    },
  });
}
