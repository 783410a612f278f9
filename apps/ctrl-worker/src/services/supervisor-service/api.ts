import type { HaltAction, HaltReason, HaltState } from "@ctrl/db";
import type { createSupervisorService } from "./service.js";

/**
 * Contract of `SupervisorService` (Restate virtual object, key = deployment id; docs/halt-contract.md).
 * ctrl-api sends `onHalt` once per reported halt of an instance (idempotency key
 * `<deployment>:<instance>:<reason>:<exit code|live>`: a live intent and the exit after it are two
 * sends of one halt), `resume` to each halt waiting for an upgrade plan that was just set, and
 * `acknowledge` when a person takes a halt over (`ctrl supervise ack`):
 *
 *   rs.objectSendClient<SupervisorServiceApi>({ name: supervisorServiceName }, deploymentId).onHalt(req, sendOpts)
 *
 * Every handler is idempotent per deployment and reason: the durable `deployment_halts` row decides
 * whether a halt was already acted on and paged.
 */
export { supervisorServiceName } from "../../contract.js";

/** Typed client of the service. */
export type SupervisorServiceApi = ReturnType<typeof createSupervisorService>;

/** The `halt_intent` of an app's status endpoint, as the agent reported it. */
export interface HaltIntentInput {
  reason: string;
  planName?: string;
  height?: number;
  info?: string;
  announcedAt?: number;
}

/** Input of `onHalt`: one instance's halt. */
export interface OnHaltRequest {
  /** The instance's k8s name (the agent's name of it). */
  instance: string;
  /** Its exit code, when it exited (absent while a stay-alive instance still serves its intent). */
  exitCode?: number;
  intent?: HaltIntentInput;
}

/** Input of `acknowledge`. */
export interface AcknowledgeRequest {
  /** Who took the halt over (principal), for the step message. */
  by?: string;
}

/** What a handler left the halt as; `handled: false` when the exit is not a halt (the crash handling applies). */
export interface HaltOutcome {
  handled: boolean;
  reason?: HaltReason;
  action?: HaltAction;
  state?: HaltState;
  replacedByDeploymentId?: string;
  message?: string;
}
