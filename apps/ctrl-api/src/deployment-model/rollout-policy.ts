import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { RolloutPolicy as PolicyMessage, RolloutPolicySchema } from "@ctrl/proto";
import { parseRolloutPolicy, policySpecOf, type RolloutPolicy, type RolloutPolicySpec } from "@ctrl/rollout";

/** A policy as the wire (Connect, /v2, the CLI's JSON) shows it: the spec in camelCase, durations as text. */
export type PolicyWire = MessageInitShape<typeof RolloutPolicySchema> & {
  strategy: string;
  parallelism: number;
  delayBetweenBatches: string;
  failureAction: string;
  healthCheckTimeout: string;
  canarySteps: { weight: number; pause: string }[];
  analysis?: { interval: string; window: string; maxErrorRate: number; maxP99LatencyMs: number; minRequests: number };
};

/** The wire form of a policy (defaults filled in); usable as the proto message and as /v2 JSON. */
export function policyWire(policy: RolloutPolicy): PolicyWire {
  const spec = policySpecOf(policy);
  return {
    strategy: spec.strategy,
    parallelism: spec.parallelism,
    delayBetweenBatches: spec.delay_between_batches,
    failureAction: spec.failure_action,
    healthCheckTimeout: spec.health_check_timeout,
    canarySteps: spec.canary_steps.map((step) => ({ weight: step.weight ?? 0, pause: step.pause ?? "0s" })),
    ...(spec.analysis
      ? {
          analysis: {
            interval: spec.analysis.interval ?? "0s",
            window: spec.analysis.window ?? "0s",
            maxErrorRate: spec.analysis.max_error_rate ?? 0,
            maxP99LatencyMs: spec.analysis.max_p99_latency_ms ?? 0,
            minRequests: spec.analysis.min_requests ?? 0,
          },
        }
      : {}),
  };
}

/** The spec of a proto policy: proto3's zero values (empty text, 0) mean "the default", as in the spec. */
export function specOfMessage(message: PolicyMessage): RolloutPolicySpec {
  return {
    strategy: message.strategy,
    parallelism: message.parallelism,
    delay_between_batches: message.delayBetweenBatches,
    failure_action: message.failureAction,
    health_check_timeout: message.healthCheckTimeout,
    canary_steps: message.canarySteps.map((step) => ({ weight: step.weight, pause: step.pause })),
    analysis: message.analysis
      ? {
          interval: message.analysis.interval,
          window: message.analysis.window,
          max_error_rate: message.analysis.maxErrorRate,
          max_p99_latency_ms: message.analysis.maxP99LatencyMs,
          min_requests: message.analysis.minRequests,
        }
      : null,
  };
}

/**
 * Validates a policy from the wire, or throws `invalid_argument` naming every broken field as
 * `policy.<field>` with its rule (`policy.canary_steps[1].weight: must be …; policy.strategy: …`).
 */
export function validatePolicyMessage(message: PolicyMessage): RolloutPolicy {
  const parsed = parseRolloutPolicy(specOfMessage(message));
  if (parsed.ok) return parsed.policy;
  throw new ConnectError(parsed.errors.map((e) => `policy.${e.field}: ${e.reason}`).join("; "), Code.InvalidArgument);
}
