/**
 * The traffic metrics every sentinel and frontline serves on `/metrics` (Prometheus text format), by
 * deployment. The analysis reads these names; the edge registers them with prom-client.
 */
export const metricNames = {
  /** Counter: answered requests, labels `deployment_id`, `status_class` (`2xx`, `3xx`, `4xx`, `5xx`, `error`). */
  requests: "ctrl_http_requests_total",
  /** Histogram (seconds): time to the response head, label `deployment_id`. */
  duration: "ctrl_http_request_duration_seconds",
} as const;

/** Latency buckets (seconds) of {@link metricNames.duration}: fine below 100 ms, coarse above. */
export const durationBucketsSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One deployment's traffic so far: totals and the cumulative latency histogram (`le` in ms). */
export interface TrafficCounters {
  requests: number;
  /** 5xx answers and upstream errors (the edge answered 502/503/504 itself). */
  errors: number;
  buckets: { leMs: number; count: number }[];
}

export const emptyCounters = (): TrafficCounters => ({ requests: 0, errors: 0, buckets: [] });

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition (comments and malformed lines skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const match = sampleLine.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(labelPair)) labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, "$1");
    const value = Number(match[3] === "+Inf" ? Number.POSITIVE_INFINITY : match[3]);
    if (!Number.isNaN(value)) samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}

/** One deployment's counters from one or more expositions (one per sentinel/frontline), summed. */
export function countersFor(expositions: readonly string[], deploymentId: string): TrafficCounters {
  const counters = emptyCounters();
  const buckets = new Map<number, number>();
  for (const text of expositions) {
    for (const sample of parsePrometheusText(text)) {
      if (sample.labels.deployment_id !== deploymentId) continue;
      if (sample.name === metricNames.requests) {
        counters.requests += sample.value;
        if (sample.labels.status_class === "5xx" || sample.labels.status_class === "error") counters.errors += sample.value;
      } else if (sample.name === `${metricNames.duration}_bucket`) {
        const le = sample.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(sample.labels.le) * 1000;
        buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
      }
    }
  }
  counters.buckets = [...buckets].sort((a, b) => a[0] - b[0]).map(([leMs, count]) => ({ leMs, count }));
  return counters;
}

/**
 * The traffic between two readings. A counter that went down was reset (the process restarted):
 * its later reading is the whole delta, as Prometheus' `increase` treats it.
 */
export function countersDelta(before: TrafficCounters, after: TrafficCounters): TrafficCounters {
  const sub = (a: number, b: number) => (a >= b ? a - b : a);
  const previous = new Map(before.buckets.map((bucket) => [bucket.leMs, bucket.count]));
  return {
    requests: sub(after.requests, before.requests),
    errors: sub(after.errors, before.errors),
    buckets: after.buckets.map((bucket) => ({ leMs: bucket.leMs, count: sub(bucket.count, previous.get(bucket.leMs) ?? 0) })),
  };
}

/**
 * The q-quantile (0..1) of a cumulative histogram in ms, interpolated linearly inside its bucket the
 * way Prometheus' `histogram_quantile` does; the highest finite bound when it falls in `+Inf`.
 * Undefined without observations.
 */
export function quantileMs(buckets: TrafficCounters["buckets"], q: number): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.leMs)) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      return inBucket <= 0 ? bucket.leMs : lowerBound + ((bucket.leMs - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = Number.isFinite(bucket.leMs) ? bucket.leMs : lowerBound;
    lowerCount = bucket.count;
  }
  return lowerBound;
}
