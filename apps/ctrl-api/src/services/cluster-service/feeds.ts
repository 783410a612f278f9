import {
  listSentinelsAfter,
  listTopologyAfter,
  maxSentinelVersion,
  maxTopologyVersion,
  snapshotSentinels,
  snapshotTopology,
  type TopologySyncRow,
} from "@ctrl/db";
import type { DeploymentState, SentinelState } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { RegionHub } from "../../watch/region-hub.js";
import { deploymentEnvBytes } from "./deployment-env.js";
import { deploymentState, sentinelState } from "./messages.js";

/** Default tick of the region pollers. */
export const defaultClusterWatchPollMs = 50;

/** The region feeds of one process: messages are built once per row and shared by all watchers. */
export interface ClusterFeeds {
  deployments: RegionHub<{ version: number; state: DeploymentState }>;
  sentinels: RegionHub<{ version: number; state: SentinelState }>;
}

// One set of feeds per deps object: both listeners (HTTP/1.1 and h2c) of a process share them.
const feedsByDeps = new WeakMap<ApiDeps, ClusterFeeds>();

/** The process's region feeds for `deps` (created on first use). */
export function clusterFeeds(deps: ApiDeps): ClusterFeeds {
  let feeds = feedsByDeps.get(deps);
  if (!feeds) {
    const pollIntervalMs = deps.clusterWatchPollMs ?? defaultClusterWatchPollMs;
    const db = deps.db;
    // Only running deployments carry variables; each message is built once and shared by every watcher.
    const withEnv = async (r: TopologySyncRow) =>
      deploymentState(
        r,
        true,
        r.desiredStatus === "running" ? await deploymentEnvBytes(deps, r.environmentId, r.deploymentId, r.region) : new Uint8Array(),
      );
    feeds = {
      deployments: new RegionHub(
        {
          listAfter: async (region, after, limit) =>
            Promise.all(
              (await listTopologyAfter(db, region, after, limit)).map(async (r) => ({ version: r.version, state: await withEnv(r) })),
            ),
          maxVersion: (region) => maxTopologyVersion(db, region),
          snapshot: async (region) => {
            const snap = await snapshotTopology(db, region);
            return {
              version: snap.version,
              rows: await Promise.all(snap.rows.map(async (r) => ({ version: r.version, state: await withEnv(r) }))),
            };
          },
        },
        { pollIntervalMs, logger: deps.logger, name: "deployments" },
      ),
      sentinels: new RegionHub(
        {
          listAfter: async (region, after, limit) =>
            (await listSentinelsAfter(db, region, after, limit)).map((r) => ({ version: r.version, state: sentinelState(r) })),
          maxVersion: (region) => maxSentinelVersion(db, region),
          snapshot: async (region) => {
            const snap = await snapshotSentinels(db, region);
            return { version: snap.version, rows: snap.rows.map((r) => ({ version: r.version, state: sentinelState(r) })) };
          },
        },
        { pollIntervalMs, logger: deps.logger, name: "sentinels" },
      ),
    };
    feedsByDeps.set(deps, feeds);
  }
  return feeds;
}
