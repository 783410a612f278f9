import { durationBucketsSeconds, metricNames } from "@ctrl/rollout";
import { Counter, Histogram, Registry } from "prom-client";

/** Options of {@link createTrafficMetrics}. */
export interface TrafficMetricsOptions {
  /** Deployments tracked at most; the one seen longest ago is dropped first (default 500). */
  maxDeployments?: number;
  /** A deployment not seen for this long is dropped when metrics are read (default 1 h). */
  idleMs?: number;
  /** Clock (ms), for tests. */
  now?: () => number;
}

/** The per-deployment request counters and latency histogram of one edge process (sentinel or frontline). */
export interface TrafficMetrics {
  /**
   * Counts one answered request: `status` 0 is a client that went away (counted as `aborted`, not an
   * error); `failed` marks an answer the edge made itself because no upstream answered (`error`).
   */
  observe(deploymentId: string, status: number, durationMs: number, failed?: boolean): void;
  /** The Prometheus text exposition and its content type. */
  expose(): Promise<{ contentType: string; body: string }>;
  /** Deployments currently tracked. */
  tracked(): number;
}

const statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx", "error", "aborted"] as const;

/**
 * The traffic metrics the rollout analysis reads (`@ctrl/rollout` names them): requests by
 * deployment and status class, request duration by deployment. Each process has its own registry,
 * so tests can run several edges in one process. Label cardinality is bounded: at most
 * `maxDeployments` deployments, the least recently seen dropped first, idle ones dropped on read.
 */
export function createTrafficMetrics(options: TrafficMetricsOptions = {}): TrafficMetrics {
  const maxDeployments = options.maxDeployments ?? 500;
  const idleMs = options.idleMs ?? 3_600_000;
  const now = options.now ?? Date.now;
  const registry = new Registry();
  const requests = new Counter({
    name: metricNames.requests,
    help: "Requests answered, by deployment and status class (error: the edge answered because no upstream did).",
    labelNames: ["deployment_id", "status_class"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: metricNames.duration,
    help: "Time from a request's arrival to the end of its response, by deployment.",
    labelNames: ["deployment_id"] as const,
    buckets: durationBucketsSeconds,
    registers: [registry],
  });
  // Insertion order = recency: a seen deployment is deleted and re-added.
  const lastSeen = new Map<string, number>();

  const forget = (deploymentId: string) => {
    lastSeen.delete(deploymentId);
    for (const statusClass of statusClasses) requests.remove({ deployment_id: deploymentId, status_class: statusClass });
    duration.remove({ deployment_id: deploymentId });
  };

  return {
    observe(deploymentId, status, durationMs, failed = false) {
      const statusClass = status === 0 ? "aborted" : failed ? "error" : `${Math.min(5, Math.max(1, Math.floor(status / 100)))}xx`;
      lastSeen.delete(deploymentId);
      lastSeen.set(deploymentId, now());
      if (lastSeen.size > maxDeployments) forget(lastSeen.keys().next().value as string);
      requests.inc({ deployment_id: deploymentId, status_class: statusClass });
      duration.observe({ deployment_id: deploymentId }, durationMs / 1000);
    },
    async expose() {
      const cutoff = now() - idleMs;
      for (const [deploymentId, seen] of lastSeen) {
        if (seen >= cutoff) break;
        forget(deploymentId);
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    tracked: () => lastSeen.size,
  };
}
