import type { HandlerContext } from "@connectrpc/connect";
import type { DeploymentState, WatchDeploymentsRequest } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { regionOfWatch, requireAgent } from "./agent.js";
import { clusterFeeds } from "./feeds.js";

/**
 * ClusterService.WatchDeployments: the region's deployment desired state as a versioned stream.
 * `version_last_seen` 0 = the current desired state (running rows of a consistent snapshot at
 * version V) and then every change after V; N = every change after N. Stopped topology arrives as
 * `delete`. Served from the process's shared region poller (watch/region-hub.ts); ends when the
 * client cancels.
 */
export async function* watchDeployments(deps: ApiDeps, req: WatchDeploymentsRequest, ctx: HandlerContext): AsyncGenerator<DeploymentState> {
  const agent = requireAgent(ctx);
  const region = regionOfWatch(ctx, agent, req.region);
  const cursor = Number(req.versionLastSeen);
  const log = deps.logger.child({ region, credentialId: agent.credentialId, cursor, feed: "deployments" });
  log.info("agent watching deployments");
  try {
    for await (const row of clusterFeeds(deps).deployments.watch(region, cursor, ctx.signal, (version, rows) =>
      log.info({ snapshotVersion: version, rows }, "sent desired-state snapshot"),
    )) {
      yield row.state;
    }
  } finally {
    log.info("deployment watch ended");
  }
}
