import type { RolloutPolicy } from "./policy.js";

/**
 * The batches a deployment's regions are cut over in, in order: `rolling` takes `parallelism`
 * regions at a time; `canary` takes the first region alone, then `parallelism` at a time;
 * `blue_green` is one batch of every region (all started and ready before the one switch).
 * Regions keep the order given (the environment's order), so a rollout is reproducible.
 */
export function planBatches(policy: Pick<RolloutPolicy, "strategy" | "parallelism">, regions: readonly string[]): string[][] {
  if (regions.length === 0) return [];
  if (policy.strategy === "blue_green") return [[...regions]];
  if (policy.strategy === "canary") return [[regions[0] as string], ...chunk(regions.slice(1), policy.parallelism)];
  return chunk(regions, policy.parallelism);
}

function chunk(items: readonly string[], size: number): string[][] {
  const batches: string[][] = [];
  const step = Math.max(1, Math.floor(size));
  for (let i = 0; i < items.length; i += step) batches.push(items.slice(i, i + step));
  return batches;
}

/**
 * The traffic weights a batch goes through when it is cut over: each canary step's weight, then 100.
 * Without canary steps a batch goes straight to 100.
 */
export function cutoverWeights(policy: Pick<RolloutPolicy, "canarySteps">): { weight: number; pauseMs: number }[] {
  return [...policy.canarySteps, { weight: 100, pauseMs: 0 }];
}
