import { haltReasons, type HaltAction, type HaltReason } from "@ctrl/db";
import { haltReasonByExitCode } from "../../contract.js";
import type { OnHaltRequest } from "./api.js";

/** What the supervisor does about each reason. */
export const actionOf: Readonly<Record<HaltReason, HaltAction>> = {
  upgrade_required: "upgrade",
  binary_too_new: "rollback",
  downgrade_detected: "wait_for_human",
};

/** Plan name used when a 70 carries no `plan_name` (exit code only: an app without a status endpoint). */
export const defaultPlanName = "default";

/** A halt the supervisor acts on. */
export interface ClassifiedHalt {
  reason: HaltReason;
  action: HaltAction;
  exitCode: number | null;
  planName: string | null;
  height: number | null;
  info: string | null;
}

function isReason(value: unknown): value is HaltReason {
  return typeof value === "string" && (haltReasons as readonly string[]).includes(value);
}

/**
 * Classifies a reported halt. The intent's reason wins when it is one of the contract's (the app
 * said exactly why); otherwise the exit code decides (70/71/72). Anything else is not a halt:
 * undefined, and the existing crash handling applies. A 70 without a plan name looks up the
 * `default` plan.
 */
export function classifyHalt(req: OnHaltRequest): ClassifiedHalt | undefined {
  const exitCode = typeof req.exitCode === "number" && Number.isInteger(req.exitCode) ? req.exitCode : null;
  const intent = req.intent && isReason(req.intent.reason) ? req.intent : undefined;
  const reason = intent?.reason ?? (exitCode !== null ? haltReasonByExitCode[exitCode] : undefined);
  if (!reason || !isReason(reason)) return undefined;
  const planName = intent?.planName?.trim().slice(0, 255) || (reason === "upgrade_required" ? defaultPlanName : null);
  const height = typeof intent?.height === "number" && Number.isSafeInteger(intent.height) && intent.height > 0 ? intent.height : null;
  const info = intent?.info ? intent.info.slice(0, 4096) : null;
  return { reason, action: actionOf[reason], exitCode, planName, height, info };
}
