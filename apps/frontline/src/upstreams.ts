import type { RoundRobin } from "@ctrl/proxy";
import type { Logger } from "pino";
import type { ProxyPlan } from "./plan.js";

/** The header that tells a sentinel which deployment of its environment a request is for. */
export const deploymentHeader = "x-ctrl-deployment-id";

/**
 * The upstream sequence of one request: the plan's addresses round robin, then (auto mode) the
 * instances behind an unreachable sentinel. Failures are remembered so the next request skips them.
 */
export function upstreamSequence(
  balancer: RoundRobin,
  maxAttempts: number,
  logger: Logger,
  p: ProxyPlan,
  headers: Record<string, string | string[]>,
  host: string,
) {
  const primary = balancer.picker(p.key, p.addresses);
  const fallback = p.fallback ? balancer.picker(p.deploymentId, p.fallback) : undefined;
  let onFallback = false;
  return {
    maxAttempts: maxAttempts + (p.fallback ? p.fallback.length : 0),
    nextUpstream: () => {
      if (!onFallback) {
        const next = primary();
        if (next !== undefined) return next;
        if (!fallback) return undefined;
        onFallback = true;
        // Instances do not understand the sentinel header; they get the request as a client sent it.
        delete headers[deploymentHeader];
      }
      return fallback!();
    },
    onUpstreamFailure: (address: string, err: Error) => {
      balancer.markFailed(address);
      logger.warn({ host, deploymentId: p.deploymentId, upstream: address, code: (err as { code?: string }).code }, "upstream failed");
    },
  };
}
