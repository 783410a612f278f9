import type { HandlerContext } from "@connectrpc/connect";
import type { SentinelState, WatchSentinelsRequest } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { regionOfWatch, requireAgent } from "./agent.js";
import { clusterFeeds } from "./feeds.js";

/**
 * ClusterService.WatchSentinels: like WatchDeployments for the region's sentinels. The snapshot
 * (cursor 0) holds every sentinel that is not archived (standby ones as 0 replicas); an archived
 * sentinel arrives as `delete`.
 */
export async function* watchSentinels(deps: ApiDeps, req: WatchSentinelsRequest, ctx: HandlerContext): AsyncGenerator<SentinelState> {
  const agent = requireAgent(ctx);
  const region = regionOfWatch(ctx, agent, req.region);
  const cursor = Number(req.versionLastSeen);
  const log = deps.logger.child({ region, credentialId: agent.credentialId, cursor, feed: "sentinels" });
  log.info("agent watching sentinels");
  try {
    for await (const row of clusterFeeds(deps).sentinels.watch(region, cursor, ctx.signal, (version, rows) =>
      log.info({ snapshotVersion: version, rows }, "sent sentinel snapshot"),
    )) {
      yield row.state;
    }
  } finally {
    log.info("sentinel watch ended");
  }
}
