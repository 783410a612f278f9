import { allocateVersion, maxCommittedVersion } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import { versioningServiceName } from "../../contract.js";
import type { WorkerDeps } from "../../deps.js";
import type { CommitResult, SentinelChange, TopologyChange } from "./api.js";
import { commitSentinelChange, commitTopologyChange } from "./commit.js";
import { validateRegion, validateSentinelChange, validateTopologyChange } from "./validate.js";

/**
 * VersioningService — virtual object, key = region.
 *
 * The per-region serialization point of the sync contract (docs/architecture.md "Versions"): its
 * exclusive handlers allocate a version and commit the versioned row in the same MySQL transaction,
 * which also locks the region's counter row. Restate state `version` caches the last allocation and
 * serves as a floor; if Restate state is lost, the counter (and MAX(version)) in MySQL still win.
 */
export function createVersioningService(deps: WorkerDeps) {
  const remember = async (ctx: restate.ObjectContext, version: number) => {
    const cached = (await ctx.get<number>("version")) ?? 0;
    if (version > cached) ctx.set("version", version);
  };
  return restate.object({
    name: versioningServiceName,
    handlers: {
      /** Allocates and returns the region's next version. */
      nextVersion: async (ctx: restate.ObjectContext): Promise<number> => {
        validateRegion(ctx.key);
        const floor = (await ctx.get<number>("version")) ?? 0;
        const version = await ctx.run("allocate version", () =>
          deps.db.transaction().execute((trx) => allocateVersion(trx, ctx.key, floor)),
        );
        await remember(ctx, version);
        return version;
      },
      /** The highest version allocated or committed in the region (0 when none). */
      getVersion: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext): Promise<number> => {
        validateRegion(ctx.key);
        const cached = (await ctx.get<number>("version")) ?? 0;
        const committed = await ctx.run("read version", () => maxCommittedVersion(deps.db, ctx.key));
        return Math.max(cached, committed);
      }),
      /** Commits a deployment's desired state in this region with a new version (idempotent). */
      commitTopology: async (ctx: restate.ObjectContext, change: TopologyChange): Promise<CommitResult> => {
        validateRegion(ctx.key);
        validateTopologyChange(change);
        const floor = (await ctx.get<number>("version")) ?? 0;
        const now = await ctx.date.now();
        const result = await ctx.run("commit topology", () => commitTopologyChange(deps.db, ctx.key, change, floor, now));
        await remember(ctx, result.version);
        return result;
      },
      /** Commits a sentinel's desired state in this region with a new version (idempotent). */
      commitSentinel: async (ctx: restate.ObjectContext, change: SentinelChange): Promise<CommitResult> => {
        validateRegion(ctx.key);
        validateSentinelChange(change);
        const floor = (await ctx.get<number>("version")) ?? 0;
        const now = await ctx.date.now();
        const result = await ctx.run("commit sentinel", () => commitSentinelChange(deps.db, ctx.key, change, floor, now));
        await remember(ctx, result.version);
        return result;
      },
    },
  });
}
