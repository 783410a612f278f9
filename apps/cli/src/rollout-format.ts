import type { DeploymentRollout, RolloutPolicy } from "@ctrl/proto";
import { bar } from "./commands/fleet.js";

/** Plain JSON of a proto message for `--json`: int64 as numbers, no `$typeName`. */
export function plainJson(message: unknown): unknown {
  return JSON.parse(
    JSON.stringify(message ?? null, (key, value) => (key === "$typeName" ? undefined : typeof value === "bigint" ? Number(value) : value)),
  );
}

/** `12:00:05` (UTC) of a Unix-ms time, `-` for 0. */
export function clock(ms: bigint | number): string {
  const n = Number(ms);
  return n > 0 ? new Date(n).toISOString().slice(11, 19) : "-";
}

const percent = (fraction: number) => `${(fraction * 100).toFixed(1)} %`;

/** One line of a policy: `canary, parallelism 1, delay 0s, on failure rollback, health timeout 2m, …`. */
export function formatPolicy(p: RolloutPolicy): string {
  const parts = [
    p.strategy,
    `parallelism ${p.parallelism}`,
    `delay ${p.delayBetweenBatches}`,
    `on failure ${p.failureAction}`,
    `health timeout ${p.healthCheckTimeout}`,
  ];
  if (p.canarySteps.length) parts.push(`canary steps ${p.canarySteps.map((s) => `${s.weight}%/${s.pause}`).join(" → ")} → 100%`);
  const a = p.analysis;
  if (a) {
    const limits = [
      a.maxErrorRate > 0 ? `max ${percent(a.maxErrorRate)} errors` : "",
      a.maxP99LatencyMs > 0 ? `p99 ≤ ${a.maxP99LatencyMs} ms` : "",
      a.minRequests > 0 ? `min ${a.minRequests} requests` : "",
    ].filter(Boolean);
    parts.push(`analysis every ${a.interval} over ${a.window} (${limits.join(", ")})`);
  } else parts.push("no analysis");
  return parts.join(", ");
}

/**
 * The live view of a deployment's rollout: a header (state, control state, strategy, batch and
 * step), the policy, one line per region (state, weight bar, started / cut over times, and the last
 * analysis when it measured that region), the failures, and the totals.
 */
export function renderDeploymentRollout(deploymentId: string, r: DeploymentRollout): string {
  const cp = r.checkpoint;
  const lines = [
    `rollout ${deploymentId}  ${r.state}  ctrl ${r.controlState}  ${r.strategy}${cp && cp.batchCount > 0 ? `  batch ${Math.min(cp.batchIndex + 1, cp.batchCount)}/${cp.batchCount} step ${cp.stepIndex + 1}` : ""}`,
  ];
  if (r.policy) lines.push(`  policy  ${formatPolicy(r.policy)}`);
  const width = Math.max(6, ...r.targets.map((t) => t.region.length));
  const a = r.lastAnalysis;
  for (const t of r.targets) {
    const times = [t.startedAt > 0n ? `started ${clock(t.startedAt)}` : "", t.cutOverAt > 0n ? `cut over ${clock(t.cutOverAt)}` : ""]
      .filter(Boolean)
      .join("  ");
    const analysis =
      a && a.region === t.region
        ? `  analysis ${a.verdict}: ${a.requests} requests, ${percent(a.errorRate)} errors, p99 ${Math.round(a.p99LatencyMs)} ms at ${clock(a.measuredAt)}${a.breaches.length ? ` (${a.breaches.join("; ")})` : ""}`
        : "";
    lines.push(
      `  ${t.region.padEnd(width)}  ${t.state.padEnd(12)} ${bar(t.weight, 100)} ${String(t.weight).padStart(3)}%  ${times}${analysis}`.trimEnd(),
    );
  }
  if (a && !r.targets.some((t) => t.region === a.region))
    lines.push(
      `  analysis ${a.region} ${a.verdict}: ${a.requests} requests, ${percent(a.errorRate)} errors, p99 ${Math.round(a.p99LatencyMs)} ms`,
    );
  for (const f of r.failureDetails) {
    const observed = Object.entries(f.observed)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    lines.push(`  ✗ ${f.target} ${f.kind}: ${f.message}${observed ? ` (${observed})` : ""}`);
  }
  lines.push(
    `  ${r.completedTargets.length} cut over, ${r.failedTargets.length} failed, ${r.remainingTargets.length} remaining of ${r.targets.length}${r.previousDeploymentId ? `; previous ${r.previousDeploymentId}` : ""}`,
  );
  return lines.join("\n");
}

/** The ROLLOUT and CTRL columns `ctrl status` adds (with strategy and progress); `-` without a rollout. */
export function rolloutColumns(r: DeploymentRollout | undefined): string {
  const cells = r
    ? [r.state, r.controlState, r.strategy, `${r.completedTargets.length}/${r.targets.length} cut over`]
    : ["-", "-", "-", "-"];
  const header = ["ROLLOUT", "CTRL", "STRATEGY", "REGIONS"];
  const widths = header.map((h, i) => Math.max(h.length, (cells[i] ?? "").length));
  const row = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return `${row(header)}\n${row(cells)}`;
}
