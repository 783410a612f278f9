import type { InstancePhase, WorkloadKind } from "../../workload.js";

/** The `halt_intent` an app serves on its status path (docs/halt-contract.md). */
export interface HaltIntentRecord {
  reason: string;
  planName?: string;
  height?: number;
  info?: string;
  announcedAt?: number;
}

/** How the agent watches an opted-in instance for a halt (`ctrl.json` `halt`). */
export interface HaltWatch {
  statusPath: string;
  stayAlive: boolean;
  /** How long a stay-alive instance may serve after it halted before the agent terminates it. */
  graceMs: number;
}

/** How to start one instance. */
export interface LaunchSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /**
   * Sandboxed with its own network: listen on the host's 127.0.0.1:<this port> here and hand the
   * socket to the instance as fd 3 (its in-sandbox bridge accepts on it), so the port belongs to
   * the instance's process group and survives the agent.
   */
  listenPort?: number;
}

/** What survives an agent restart about an instance: its state file (`instances/<kind>--<name>.json`). */
export interface InstanceRecord {
  kind: WorkloadKind;
  name: string;
  workload: string;
  ordinal: number;
  /** Hash of what it was started from; a different desired hash means replace it. */
  specHash: string;
  image: string;
  port: number;
  healthPath: string;
  /** Shim pid = process group id; undefined while not running. */
  pid?: number;
  /** /proc starttime of the shim, guarding against pid reuse. */
  starttime?: string;
  logFile: string;
  exitFile: string;
  /** Host path of `$CTRL_HALT_FILE` when it is not beside the exit file (sandboxed: in the instance's own run dir). */
  haltFile?: string;
  /** The instance's private sandbox directory (home, run dir), removed when it stops. */
  sandboxDir?: string;
  /** Consecutive failed runs (persisted so a restarted agent does not restart a crash loop forever). */
  failures: number;
  /** Opted in to halt supervision (`ctrl.json` `halt`); undefined: the exit code and halt file alone. */
  halt?: HaltWatch;
  /** The last `halt_intent` its status path served (persisted: reported again after its exit, or by a restarted agent). */
  lastIntent?: HaltIntentRecord;
  /** When the intent was first seen (ms), so a restarted agent keeps the grace window. */
  haltSeenAt?: number;
  /** Set once it gave up restarting. */
  gaveUp?: { exitCode?: number; reason: string; haltIntent?: string; halt?: HaltIntentRecord };
}

/** Restart and health-check policy. */
export interface SupervisorPolicy {
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
  /** Restarts after consecutive failures before giving up (stays failed). */
  maxRestarts: number;
  /** A run this long resets the failure count. */
  stableAfterMs: number;
  /** Health poll interval while pending. */
  healthIntervalMs: number;
  /** Liveness poll interval once running. */
  livenessIntervalMs: number;
  /** Liveness failures in a row before it counts as pending again. */
  livenessFailures: number;
  /** SIGTERM → SIGKILL grace on stop. */
  stopGraceMs: number;
  /** How often an adopted instance (not our child) is checked for exit. */
  adoptedPollMs: number;
  /** How often an opted-in instance's status path is read for a halt intent (default 2 s). */
  haltPollMs?: number;
  /** Time limit of one status read (default 1 s). */
  haltStatusTimeoutMs?: number;
}

/** Observed state of one supervised instance. */
export interface SupervisorStatus {
  phase: InstancePhase;
  exitCode?: number;
  failureReason?: string;
  /** Why the app halted on purpose (see {@link haltExitCodes}). */
  haltIntent?: string;
  /** The structured intent its status path served (live, or the last one seen before its exit). */
  halt?: HaltIntentRecord;
}

/**
 * Exit codes by which an app says "I halted on purpose, do not restart me" (ARCHITECTURE.md,
 * SupervisorService): the instance stays `failed` at once with its exit code and the intent the
 * app wrote to `$CTRL_HALT_FILE` (if any), and the control plane decides what to do.
 */
export const haltExitCodes: ReadonlySet<number> = new Set([70, 71, 72]);

/** Where an instance may write its halt intent (`$CTRL_HALT_FILE`): beside its exit file. */
export function haltFileOf(record: Pick<InstanceRecord, "exitFile" | "haltFile">): string {
  return record.haltFile ?? record.exitFile.replace(/\.exit$/, ".halt");
}
