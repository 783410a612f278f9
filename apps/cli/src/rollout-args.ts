import type { ParseArgsConfig } from "node:util";
import type { GlobalFlags } from "./args.js";

/** A mistake in how a rollout command was called (args.ts turns it into a UsageError, exit 2). */
export class RolloutUsageError extends Error {}

/** `ctrl env policy get|set` flags. */
export interface EnvPolicyFlags extends GlobalFlags {
  project?: string;
  env: string;
  /** Set only: the policy, in the wire's camelCase (durations as text); absent fields take their defaults. */
  policy?: {
    strategy: string;
    parallelism?: number;
    delayBetweenBatches?: string;
    failureAction?: string;
    healthCheckTimeout?: string;
    canarySteps?: { weight: number; pause: string }[];
    analysis?: { interval: string; window?: string; maxErrorRate?: number; maxP99LatencyMs?: number; minRequests?: number };
  };
}

/** `ctrl rollout <action> <deployment-id>`. */
export const rolloutActions = ["status", "pause", "resume", "cancel"] as const;
export type RolloutAction = (typeof rolloutActions)[number];

/** `ctrl rollout …` flags. */
export interface RolloutFlags extends GlobalFlags {
  follow: boolean;
}

/** parseArgs options of `ctrl env`. */
export const envOptions = {
  project: { type: "string", short: "p" },
  env: { type: "string", short: "e" },
  strategy: { type: "string" },
  parallelism: { type: "string" },
  delay: { type: "string" },
  "failure-action": { type: "string" },
  "health-timeout": { type: "string" },
  "canary-steps": { type: "string" },
  "analysis-interval": { type: "string" },
  "analysis-window": { type: "string" },
  "max-error-rate": { type: "string" },
  "max-p99-ms": { type: "string" },
  "min-requests": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** parseArgs options of `ctrl rollout`. */
export const rolloutOptions = { follow: { type: "boolean", short: "f", default: false } } as const satisfies ParseArgsConfig["options"];

/** Usage lines of the two commands. */
export const rolloutUsage = {
  env:
    "ctrl env policy get [--project ID] [--env production]\n" +
    "ctrl env policy set [--project ID] [--env production] --strategy rolling|canary|blue_green [--parallelism N] [--delay 30s]\n" +
    "    [--failure-action pause|rollback] [--health-timeout 120s] [--canary-steps 10:60s,50:60s]\n" +
    "    [--analysis-interval 10s --analysis-window 1m --max-error-rate 0.05 --max-p99-ms 500 --min-requests 20]\n" +
    "  Shows or sets the environment's rollout policy (project from --project or CTRL_PROJECT_ID). set writes the whole\n" +
    "  policy: flags not given take their defaults. New deployments get the policy in force when they are created.",
  rollout:
    "ctrl rollout status <deployment-id> [--follow] | pause <deployment-id> | resume <deployment-id> | cancel <deployment-id>\n" +
    "  status shows the rollout region by region (state, traffic weight, times, the last analysis); --follow until it ends.\n" +
    "  pause stops before the next step, resume continues a paused or blocked rollout, cancel stops where it is.",
};

type Values = Record<string, string | boolean | undefined>;

/** Parses `ctrl env policy get|set` from its positionals and option values. */
export function parseEnvCommand(
  positionals: string[],
  values: Values,
  flags: GlobalFlags,
): { action: "get" | "set"; flags: EnvPolicyFlags } {
  const [topic, action, ...extra] = positionals;
  if (topic !== "policy" || (action !== "get" && action !== "set") || extra.length > 0)
    throw new RolloutUsageError(`expected \`ctrl env policy get\` or \`ctrl env policy set …\`, got: ctrl env ${positionals.join(" ")}`);
  const str = (name: string) => {
    const value = values[name];
    if (typeof value !== "string") return undefined;
    if (value.trim() === "") throw new RolloutUsageError(`--${name} must not be empty`);
    return value.trim();
  };
  const base: EnvPolicyFlags = { ...flags, env: str("env") ?? "production", ...(str("project") ? { project: str("project") } : {}) };
  const policyFlags = Object.keys(envOptions).filter((name) => name !== "project" && name !== "env" && str(name) !== undefined);
  if (action === "get") {
    if (policyFlags.length > 0) throw new RolloutUsageError(`env policy get takes no policy flags (got --${policyFlags.join(", --")})`);
    return { action, flags: base };
  }
  const strategy = str("strategy");
  if (!strategy) throw new RolloutUsageError("env policy set needs --strategy rolling|canary|blue_green");
  const whole = (name: string) => {
    const value = str(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new RolloutUsageError(`--${name} must be a whole number, got "${value}"`);
    return Number(value);
  };
  const analysisFlags = ["analysis-interval", "analysis-window", "max-error-rate", "max-p99-ms", "min-requests"].filter(
    (name) => str(name) !== undefined,
  );
  const interval = str("analysis-interval");
  if (analysisFlags.length > 0 && !interval) throw new RolloutUsageError("--analysis-interval is needed with the other analysis flags");
  const parallelism = whole("parallelism");
  const canaryText = str("canary-steps");
  const maxP99LatencyMs = whole("max-p99-ms");
  const minRequests = whole("min-requests");
  const errorRate = str("max-error-rate");
  const window = str("analysis-window");
  return {
    action,
    flags: {
      ...base,
      policy: {
        strategy,
        ...(parallelism !== undefined ? { parallelism } : {}),
        ...(str("delay") ? { delayBetweenBatches: str("delay") } : {}),
        ...(str("failure-action") ? { failureAction: str("failure-action") } : {}),
        ...(str("health-timeout") ? { healthCheckTimeout: str("health-timeout") } : {}),
        ...(canaryText ? { canarySteps: parseCanarySteps(canaryText) } : {}),
        ...(interval
          ? {
              analysis: {
                interval,
                ...(window ? { window } : {}),
                ...(errorRate !== undefined ? { maxErrorRate: parseRate(errorRate) } : {}),
                ...(maxP99LatencyMs !== undefined ? { maxP99LatencyMs } : {}),
                ...(minRequests !== undefined ? { minRequests } : {}),
              },
            }
          : {}),
      },
    },
  };
}

/** `10:60s,50:60s` → `[{weight: 10, pause: "60s"}, {weight: 50, pause: "60s"}]` (the API checks the rules). */
export function parseCanarySteps(text: string): { weight: number; pause: string }[] {
  return text.split(",").map((part) => {
    const match = /^\s*(\d+)%?\s*(?::\s*(\S+))?\s*$/.exec(part);
    if (!match) throw new RolloutUsageError(`--canary-steps takes WEIGHT:PAUSE pairs, e.g. 10:60s,50:60s (got "${part.trim()}")`);
    return { weight: Number(match[1]), pause: match[2] ?? "0" };
  });
}

/** `0.05` or `5%` → 0.05. */
function parseRate(text: string): number {
  const percent = text.endsWith("%");
  const value = Number(percent ? text.slice(0, -1) : text);
  if (text === "" || !Number.isFinite(value))
    throw new RolloutUsageError(`--max-error-rate must be a fraction (0.05) or a percentage (5%), got "${text}"`);
  return percent ? value / 100 : value;
}

/** Parses `ctrl rollout <action> <deployment-id>`. */
export function parseRolloutCommand(
  positionals: string[],
  values: Values,
  flags: GlobalFlags,
): { action: RolloutAction; deploymentId: string; flags: RolloutFlags } {
  const [action, deploymentId, ...extra] = positionals;
  if (!action || !(rolloutActions as readonly string[]).includes(action))
    throw new RolloutUsageError(
      `expected \`ctrl rollout ${rolloutActions.join("|")} <deployment-id>\`, got: ctrl rollout ${positionals.join(" ")}`,
    );
  if (!deploymentId?.trim()) throw new RolloutUsageError(`rollout ${action} needs a deployment id`);
  if (extra.length > 0) throw new RolloutUsageError(`rollout ${action} takes one deployment id, got: ${positionals.slice(1).join(" ")}`);
  if (values.follow === true && action !== "status") throw new RolloutUsageError("--follow is for rollout status");
  return { action: action as RolloutAction, deploymentId: deploymentId.trim(), flags: { ...flags, follow: values.follow === true } };
}
