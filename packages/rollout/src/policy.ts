import { formatDuration, parseDuration } from "./duration.js";

/** How a deployment reaches its regions: batches of regions, one region first, or all at once. */
export const rolloutStrategies = ["rolling", "canary", "blue_green"] as const;
export type RolloutStrategy = (typeof rolloutStrategies)[number];

/** What a failed batch does: park the rollout for an operator, or switch every region back. */
export const failureActions = ["pause", "rollback"] as const;
export type FailureAction = (typeof failureActions)[number];

/** One traffic step inside a region: the new deployment takes `weight` % for `pauseMs`. */
export interface CanaryStep {
  weight: number;
  pauseMs: number;
}

/**
 * Metric analysis during each canary pause and for `windowMs` after each cutover, every `intervalMs`.
 * A limit of 0 is not checked; fewer than `minRequests` requests in the window is inconclusive (not a
 * failure).
 */
export interface AnalysisPolicy {
  intervalMs: number;
  windowMs: number;
  /** Fraction of 5xx answers, 0..1. */
  maxErrorRate: number;
  maxP99LatencyMs: number;
  minRequests: number;
}

/** The rollout policy of an environment, snapshotted onto each deployment when it is created. */
export interface RolloutPolicy {
  strategy: RolloutStrategy;
  parallelism: number;
  delayBetweenBatchesMs: number;
  failureAction: FailureAction;
  /** How long a batch may take to become ready; 0 disables readiness gating. */
  healthCheckTimeoutMs: number;
  canarySteps: CanaryStep[];
  /** Null: no analysis. */
  analysis: AnalysisPolicy | null;
}

/**
 * The policy of an environment that never set one: every region started and ready, then one switch
 * (what a deploy did before policies existed), rolled back on failure.
 */
export const defaultRolloutPolicy: RolloutPolicy = Object.freeze({
  strategy: "blue_green",
  parallelism: 1,
  delayBetweenBatchesMs: 0,
  failureAction: "rollback",
  healthCheckTimeoutMs: 120_000,
  canarySteps: [],
  analysis: null,
}) as RolloutPolicy;

/**
 * A policy as people and the wire write it: snake_case names, durations as text (`"60s"`), every
 * field optional (absent → the default).
 */
export interface RolloutPolicySpec {
  strategy?: string;
  parallelism?: number;
  delay_between_batches?: string;
  failure_action?: string;
  health_check_timeout?: string;
  canary_steps?: { weight?: number; pause?: string }[];
  analysis?: {
    interval?: string;
    window?: string;
    max_error_rate?: number;
    max_p99_latency_ms?: number;
    min_requests?: number;
  } | null;
}

/** A field of a policy spec that is wrong: its path (`canary_steps[1].weight`) and the rule it breaks. */
export interface PolicyFieldError {
  field: string;
  reason: string;
}

export type PolicyParse = { ok: true; policy: RolloutPolicy } | { ok: false; errors: PolicyFieldError[] };

const maxDelayMs = 24 * 3_600_000;
const maxHealthTimeoutMs = 3_600_000;
const maxCanarySteps = 10;

/**
 * Validates a policy spec and fills the defaults. Every broken rule is reported, each naming its field,
 * so one answer tells the caller everything to fix.
 */
export function parseRolloutPolicy(spec: RolloutPolicySpec): PolicyParse {
  const errors: PolicyFieldError[] = [];
  const fail = (field: string, reason: string) => errors.push({ field, reason });
  const duration = (field: string, text: string | undefined, fallback: number, max: number): number => {
    if (text === undefined || text === "") return fallback;
    const ms = parseDuration(text);
    if (ms === undefined) fail(field, `"${text}" is not a duration; write e.g. "30s", "5m" or "0"`);
    else if (ms > max) fail(field, `must be at most ${formatDuration(max)}`);
    return ms ?? fallback;
  };
  const policy: RolloutPolicy = { ...defaultRolloutPolicy, canarySteps: [], analysis: null };

  if (spec.strategy !== undefined && spec.strategy !== "") {
    if ((rolloutStrategies as readonly string[]).includes(spec.strategy)) policy.strategy = spec.strategy as RolloutStrategy;
    else fail("strategy", `must be one of ${rolloutStrategies.join(", ")}`);
  }
  if (spec.parallelism !== undefined && spec.parallelism !== 0) {
    if (Number.isInteger(spec.parallelism) && spec.parallelism >= 1 && spec.parallelism <= 100) policy.parallelism = spec.parallelism;
    else fail("parallelism", "must be an integer from 1 to 100");
  }
  if (spec.failure_action !== undefined && spec.failure_action !== "") {
    if ((failureActions as readonly string[]).includes(spec.failure_action)) policy.failureAction = spec.failure_action as FailureAction;
    else fail("failure_action", `must be one of ${failureActions.join(", ")}`);
  }
  policy.delayBetweenBatchesMs = duration("delay_between_batches", spec.delay_between_batches, 0, maxDelayMs);
  policy.healthCheckTimeoutMs = duration("health_check_timeout", spec.health_check_timeout, 120_000, maxHealthTimeoutMs);

  const steps = spec.canary_steps ?? [];
  if (steps.length > maxCanarySteps) fail("canary_steps", `at most ${maxCanarySteps} steps`);
  let previous = 0;
  steps.forEach((step, index) => {
    const field = `canary_steps[${index}]`;
    const weight = step.weight ?? 0;
    if (!Number.isInteger(weight) || weight < 1 || weight > 99)
      fail(`${field}.weight`, "must be an integer from 1 to 99 (the region takes 100 after the last step)");
    else if (weight <= previous) fail(`${field}.weight`, `must be greater than the step before (${previous})`);
    previous = Math.max(previous, Number.isInteger(weight) ? weight : previous);
    policy.canarySteps.push({ weight, pauseMs: duration(`${field}.pause`, step.pause, 0, maxDelayMs) });
  });

  const analysis = spec.analysis;
  if (analysis) {
    const intervalMs = duration("analysis.interval", analysis.interval, 0, maxHealthTimeoutMs);
    if (intervalMs > 0) {
      const windowMs = duration("analysis.window", analysis.window, intervalMs, maxDelayMs);
      if (windowMs < intervalMs) fail("analysis.window", "must be at least the interval");
      const maxErrorRate = analysis.max_error_rate ?? 0;
      if (!(maxErrorRate >= 0 && maxErrorRate <= 1)) fail("analysis.max_error_rate", "must be a fraction from 0 to 1 (0.05 is 5 %)");
      const maxP99LatencyMs = analysis.max_p99_latency_ms ?? 0;
      if (!Number.isInteger(maxP99LatencyMs) || maxP99LatencyMs < 0)
        fail("analysis.max_p99_latency_ms", "must be a whole number of milliseconds, 0 or more");
      const minRequests = analysis.min_requests ?? 0;
      if (!Number.isInteger(minRequests) || minRequests < 0) fail("analysis.min_requests", "must be a whole number, 0 or more");
      if (maxErrorRate === 0 && maxP99LatencyMs === 0)
        fail("analysis", "set max_error_rate or max_p99_latency_ms (or interval 0 to disable the analysis)");
      policy.analysis = { intervalMs, windowMs, maxErrorRate, maxP99LatencyMs, minRequests };
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy };
}

/** The spec that {@link parseRolloutPolicy} reads back as `policy` (for showing a policy to people). */
export function policySpecOf(policy: RolloutPolicy): Required<Omit<RolloutPolicySpec, "analysis">> & Pick<RolloutPolicySpec, "analysis"> {
  return {
    strategy: policy.strategy,
    parallelism: policy.parallelism,
    delay_between_batches: formatDuration(policy.delayBetweenBatchesMs),
    failure_action: policy.failureAction,
    health_check_timeout: formatDuration(policy.healthCheckTimeoutMs),
    canary_steps: policy.canarySteps.map((step) => ({ weight: step.weight, pause: formatDuration(step.pauseMs) })),
    analysis: policy.analysis && {
      interval: formatDuration(policy.analysis.intervalMs),
      window: formatDuration(policy.analysis.windowMs),
      max_error_rate: policy.analysis.maxErrorRate,
      max_p99_latency_ms: policy.analysis.maxP99LatencyMs,
      min_requests: policy.analysis.minRequests,
    },
  };
}

/**
 * Reads a policy stored as JSON (the snapshot on a deployment, the environment's column); null or
 * unreadable text is the default, so rows written before policies existed keep today's behaviour.
 */
export function policyFromJson(json: string | null | undefined): RolloutPolicy {
  if (!json) return defaultRolloutPolicy;
  try {
    const parsed = parseRolloutPolicy(JSON.parse(json) as RolloutPolicySpec);
    return parsed.ok ? parsed.policy : defaultRolloutPolicy;
  } catch {
    return defaultRolloutPolicy;
  }
}

/** The JSON a policy is stored as (its spec form, so it stays readable in the database). */
export function policyToJson(policy: RolloutPolicy): string {
  return JSON.stringify(policySpecOf(policy));
}
