import { instanceEnv } from "@ctrl/artifact";
import { readdir, readFile, rm } from "node:fs/promises";
import type { Logger } from "pino";
import { workloadKey } from "../../workload.js";
import type { InstanceRecord } from "./instance.js";
import type { DataLayout } from "./layout.js";
import type { InstanceLauncher } from "./launcher.js";
import type { PortAllocator } from "./ports.js";
import { environHas, readProcStat } from "./procfs.js";
import { specHash, type WorkloadState } from "./workload-state.js";

/** What the start-up recovery of the process driver works on. */
export interface RecoveryContext {
  layout: DataLayout;
  launcher: InstanceLauncher;
  ports: PortAllocator;
  logger: Logger;
  /** The desired workloads, as read back from their spec files, by workloadKey. */
  workloads: Map<string, WorkloadState>;
}

/**
 * Adopts every instance whose process still runs and is still desired (same spec hash, ordinal
 * within the replicas); stops the others and forgets the dead ones (the reconcile that follows
 * starts fresh instances for them).
 */
export async function adoptInstances(ctx: RecoveryContext): Promise<void> {
  const { layout, launcher, ports, logger, workloads } = ctx;
  for (const file of await readdir(layout.path("instances"))) {
    if (!file.endsWith(".json")) continue;
    const stateFile = layout.path("instances", file);
    let record: InstanceRecord;
    try {
      record = JSON.parse(await readFile(stateFile, "utf8")) as InstanceRecord;
    } catch (err) {
      logger.warn({ err, file }, "unreadable instance state file; removing it");
      await rm(stateFile, { force: true });
      continue;
    }
    const state = workloads.get(workloadKey(record.kind, record.workload));
    const supervisor = launcher.supervise(record, stateFile);
    const desired =
      state && record.ordinal < state.spec.replicas && record.specHash === specHash(state.spec) && !state.instances.has(record.ordinal);
    ports.reserve(record.port);
    if (!desired) {
      logger.info({ instance: record.name }, "stopping an instance that is no longer desired");
      await supervisor.stop();
      ports.release(record.port);
      continue;
    }
    if (await supervisor.adopt()) {
      state.instances.set(record.ordinal, supervisor);
    } else {
      // Dead while the agent was down: the reconcile below starts a fresh one.
      logger.info({ instance: record.name }, "instance died while the agent was down; it will be replaced");
      await rm(stateFile, { force: true });
      ports.release(record.port);
    }
  }
}

/**
 * Kills processes this data directory's agent started but no record accounts for: an agent
 * killed between spawning an instance and writing its record leaves one. Found by the
 * `CTRL_AGENT` mark every instance carries; adopted instances' process groups are spared.
 */
export async function killOrphans(ctx: Pick<RecoveryContext, "layout" | "logger" | "workloads">): Promise<void> {
  const adopted = new Set<number>();
  for (const w of ctx.workloads.values())
    for (const sup of w.instances.values()) if (sup.record.pid !== undefined) adopted.add(sup.record.pid);
  const mark = `${instanceEnv.agent}=${ctx.layout.agentMark}`;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || !(await environHas(pid, mark))) continue;
    const stat = await readProcStat(pid);
    if (!stat || stat.state === "Z" || adopted.has(stat.pgid)) continue;
    ctx.logger.warn({ pid, pgid: stat.pgid }, "killing an orphaned instance process (no record accounts for it)");
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

/** Removes half-done pulls of a previous agent process (it crashed mid-download or mid-unpack). */
export async function removeStaleDownloads(layout: DataLayout): Promise<void> {
  for (const f of await readdir(layout.path("artifacts"))) {
    if (/\.(tmp|tar\.gz)$/.test(f) || f.includes(".part-")) await rm(layout.path("artifacts", f), { recursive: true, force: true });
  }
}
