import type { Deployment, DeploymentStep } from "@ctrl/proto";
import { DeploymentStatus } from "@ctrl/proto";
import { formatHalt } from "./halt-format.js";

/** `READY`, `FAILED`, … from the proto enum. */
export function statusName(status: DeploymentStatus): string {
  return (DeploymentStatus[status] ?? "UNSPECIFIED").toString();
}

/** True for statuses a deployment never leaves. */
export function isTerminal(status: DeploymentStatus): boolean {
  return status === DeploymentStatus.READY || status === DeploymentStatus.FAILED || status === DeploymentStatus.CANCELLED;
}

const icons: Record<string, string> = { running: "…", completed: "✓", failed: "✗", skipped: "-" };

/** One line per step: `✓ build:fetch      downloaded 1.2 KiB (3.1 s)`. */
export function formatStep(step: Pick<DeploymentStep, "step" | "status" | "message" | "errorMessage" | "createdAt" | "endedAt">): string {
  const took = step.endedAt > 0n && step.createdAt > 0n ? ` (${formatDuration(Number(step.endedAt - step.createdAt))})` : "";
  const head = `${icons[step.status] ?? "?"} ${step.step.padEnd(14)} ${step.message}${took}`;
  return step.status === "failed" && step.errorMessage ? `${head}\n${indent(step.errorMessage, "    ")}` : head;
}

/** `850 ms`, `3.1 s`, `2 m 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")} s`;
}

/** Prefixes every line of `text`. */
export function indent(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((l) => prefix + l)
    .join("\n");
}

/** The URL a person opens for a hostname; `frontlinePort` when frontline does not listen on 80. */
export function hostnameUrl(hostname: string, frontlinePort?: number): string {
  return `http://${hostname}${frontlinePort && frontlinePort !== 80 ? `:${frontlinePort}` : ""}/`;
}

/** A deployment as plain JSON for `--json` (bigints as numbers, enums by name). */
export function deploymentJson(d: Deployment) {
  return {
    id: d.id,
    projectId: d.projectId,
    environmentId: d.environmentId,
    status: statusName(d.status),
    image: d.image || undefined,
    buildId: d.buildId || undefined,
    gitCommitSha: d.gitCommitSha || undefined,
    gitBranch: d.gitBranch || undefined,
    hostnames: d.hostnames,
    errorMessage: d.errorMessage || undefined,
    failedStep: d.failedStep || undefined,
    createdAt: Number(d.createdAt),
    updatedAt: Number(d.updatedAt),
    steps: d.steps.map((s) => ({
      step: s.step,
      status: s.status,
      message: s.message,
      errorMessage: s.errorMessage || undefined,
      createdAt: Number(s.createdAt),
      endedAt: Number(s.endedAt) || undefined,
    })),
    halt: d.halt
      ? {
          reason: d.halt.reason,
          planName: d.halt.planName || undefined,
          height: d.halt.height > 0n ? Number(d.halt.height) : undefined,
          info: d.halt.info || undefined,
          exitCode: d.halt.exitCode || undefined,
          action: d.halt.action,
          state: d.halt.state,
          replacedByDeploymentId: d.halt.replacedByDeploymentId || undefined,
          summary: formatHalt(d.halt),
        }
      : undefined,
  };
}

/** `ctrl status` output for people. */
export function formatDeployment(d: Deployment, frontlinePort?: number): string {
  const lines = [
    `deployment  ${d.id}`,
    `status      ${statusName(d.status)}${d.failedStep ? ` (failed at ${d.failedStep})` : ""}`,
    `project     ${d.projectId}   environment ${d.environmentId}`,
  ];
  if (d.gitBranch || d.gitCommitSha)
    lines.push(
      `git         ${d.gitBranch}${d.gitCommitSha ? ` @ ${d.gitCommitSha.slice(0, 7)}` : ""}${d.gitCommitMessage ? ` ${d.gitCommitMessage.split("\n")[0]}` : ""}`,
    );
  if (d.image) lines.push(`image       ${d.image}`);
  if (d.halt) lines.push(`halt        ${formatHalt(d.halt)}`);
  if (d.createdAt > 0n) lines.push(`created     ${new Date(Number(d.createdAt)).toISOString()}`);
  if (d.hostnames.length) lines.push("hostnames", ...d.hostnames.map((h) => `  ${hostnameUrl(h, frontlinePort)}`));
  if (d.steps.length) lines.push("steps", ...d.steps.map((s) => indent(formatStep(s), "  ")));
  if (d.errorMessage) lines.push("error", indent(d.errorMessage, "  "));
  return lines.join("\n");
}
