import { listSentinelAddresses, type Db } from "@ctrl/db";
import { countersFor, emptyCounters, type TrafficCounters } from "@ctrl/rollout";

/** Time limit of one `/metrics` scrape; a sentinel that does not answer adds no traffic. */
const scrapeTimeoutMs = 2_000;

/**
 * The new deployment's traffic so far in `regions`: every sentinel of the environment there is
 * scraped at `GET /metrics` (no `x-ctrl-deployment-id` header, so the sentinel answers itself) and
 * the counters of `deploymentId` are summed. Unreachable sentinels are skipped: the analysis then
 * sees less traffic (inconclusive below `min_requests`), never an invented failure.
 */
export async function scrapeRegionTraffic(
  db: Db,
  environmentId: string,
  regions: readonly string[],
  deploymentId: string,
): Promise<TrafficCounters> {
  const addresses = (await Promise.all(regions.map((region) => listSentinelAddresses(db, environmentId, region)))).flat();
  if (addresses.length === 0) return emptyCounters();
  const texts = await Promise.all(
    addresses.map(async (address) => {
      try {
        const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(scrapeTimeoutMs) });
        return response.ok ? await response.text() : "";
      } catch {
        return "";
      }
    }),
  );
  return countersFor(texts, deploymentId);
}

/** Counters as the journal stores them: JSON has no Infinity, so the `+Inf` bucket is written as -1. */
export type JournaledCounters = { requests: number; errors: number; buckets: [number, number][] };

/** {@link TrafficCounters} → journal form. */
export function encodeCounters(counters: TrafficCounters): JournaledCounters {
  return {
    requests: counters.requests,
    errors: counters.errors,
    buckets: counters.buckets.map((b) => [Number.isFinite(b.leMs) ? b.leMs : -1, b.count]),
  };
}

/** Journal form → {@link TrafficCounters}. */
export function decodeCounters(counters: JournaledCounters): TrafficCounters {
  return {
    requests: counters.requests,
    errors: counters.errors,
    buckets: counters.buckets.map(([leMs, count]) => ({ leMs: leMs < 0 ? Number.POSITIVE_INFINITY : leMs, count })),
  };
}

/** Per region, the new deployment's traffic in journal form (one scrape round). */
export async function scrapeBatchTraffic(
  db: Db,
  environmentId: string,
  regions: readonly string[],
  deploymentId: string,
): Promise<Record<string, JournaledCounters>> {
  const out: Record<string, JournaledCounters> = {};
  for (const region of regions) out[region] = encodeCounters(await scrapeRegionTraffic(db, environmentId, [region], deploymentId));
  return out;
}
