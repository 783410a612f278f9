import { parseArtifactRef } from "@ctrl/artifact";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import type { Logger } from "pino";
import type { ArtifactCache } from "./artifacts.js";
import type { DataLayout } from "./layout.js";
import { rotateIfLarge, tailLog } from "./logs.js";
import type { WorkloadState } from "./workload-state.js";

/** The last lines of an instance's log, or undefined for an unknown instance name. */
export async function readInstanceLog(layout: DataLayout, instance: string, lines: number): Promise<string[] | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(instance)) return undefined;
  for (const kind of ["deployment", "sentinel"] as const) {
    const file = layout.logFile(kind, instance);
    const out = await tailLog(file, lines);
    if (
      out.length ||
      (await readFile(file).then(
        () => true,
        () => false,
      ))
    )
      return out;
  }
  return undefined;
}

/** Rotates every instance log over `maxBytes`, keeping `keep` old files. */
export async function rotateLogs(layout: DataLayout, maxBytes: number, keep: number, logger: Logger): Promise<void> {
  const files = await readdir(layout.path("logs")).catch(() => [] as string[]);
  for (const f of files) {
    if (!f.endsWith(".log")) continue;
    await rotateIfLarge(layout.path("logs", f), maxBytes, keep).catch((err: unknown) =>
      logger.warn({ err, file: f }, "log rotation failed"),
    );
  }
}

/** What {@link prune} works on. */
export interface PruneContext {
  layout: DataLayout;
  cache: ArtifactCache;
  logger: Logger;
  workloads: Map<string, WorkloadState>;
}

/**
 * Removes unpacked artifacts no desired workload references, and logs of instances that no
 * longer exist, once they are older than `retentionMs` (logs of a failed deploy stay readable
 * for a while).
 */
export async function prune(ctx: PruneContext, retentionMs: number): Promise<{ artifacts: string[]; logs: string[] }> {
  const { layout, cache, logger, workloads } = ctx;
  const removed = { artifacts: [] as string[], logs: [] as string[] };
  const now = Date.now();
  const old = async (path: string) =>
    now -
      (await stat(path).then(
        (s) => s.mtimeMs,
        () => now,
      )) >
    retentionMs;
  const referenced = () => new Set([...workloads.values()].map((w) => parseArtifactRef(w.spec.image)?.sha256).filter(Boolean));
  for (const f of await readdir(layout.path("artifacts")).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{64}$/.test(f) || referenced().has(f) || cache.busy(f) || !(await old(layout.path("artifacts", f)))) continue;
    if (referenced().has(f)) continue; // applied meanwhile
    await rm(layout.path("artifacts", f), { recursive: true, force: true });
    removed.artifacts.push(f);
  }
  const live = new Set<string>();
  for (const w of workloads.values()) for (const sup of w.instances.values()) live.add(`${sup.record.kind}--${sup.record.name}`);
  for (const f of await readdir(layout.path("logs")).catch(() => [] as string[])) {
    const instance = f.replace(/\.log(\.\d+)?$/, "");
    if (live.has(instance) || !(await old(layout.path("logs", f)))) continue;
    await rm(layout.path("logs", f), { force: true });
    removed.logs.push(f);
  }
  if (removed.artifacts.length || removed.logs.length) logger.info(removed, "pruned unused artifacts and old logs");
  return removed;
}
