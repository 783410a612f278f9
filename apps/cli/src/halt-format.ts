import type { DeploymentHalt } from "@ctrl/proto";

const reasonText: Record<string, string> = {
  upgrade_required: "needs an upgrade",
  binary_too_new: "binary too new for its state",
  downgrade_detected: "state ahead of the binary (downgrade)",
};

const stateText: Record<string, string> = {
  acting: "supervisor acting",
  waiting_for_plan: "waiting for an upgrade plan",
  waiting_for_human: "waiting for a person",
  halted: "done",
  acknowledged: "acknowledged",
};

/**
 * One line a person understands about a halt, e.g.
 * `halted: needs an upgrade (exit 70, plan v2, height 1200) — waiting for an upgrade plan: image_mapping_missing: …`.
 */
export function formatHalt(h: DeploymentHalt): string {
  const facts = [
    h.exitCode ? `exit ${h.exitCode}` : "announced on its status path",
    h.planName ? `plan ${h.planName}` : "",
    h.height > 0n ? `height ${h.height}` : "",
  ].filter(Boolean);
  const detail = [h.condition, h.message].filter(Boolean).join(": ");
  const replaced = h.replacedByDeploymentId && !detail.includes(h.replacedByDeploymentId) ? ` → ${h.replacedByDeploymentId}` : "";
  return `halted: ${reasonText[h.reason] ?? h.reason} (${facts.join(", ")}) — ${stateText[h.state] ?? h.state}${detail ? `: ${detail}` : ""}${replaced}${h.info ? ` [${h.info}]` : ""}`;
}
