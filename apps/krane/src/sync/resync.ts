import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { ClusterClient } from "../cluster-client.js";
import type { DesiredWorkload, WorkloadKind } from "../workload.js";
import { applyDeploymentState, applySentinelState, type ApplyDeps } from "./apply.js";
import type { ApplyQueue } from "./apply-queue.js";
import { Backoff, sleep } from "./backoff.js";
import type { Reporter } from "./reporter.js";

/** What a resync pass needs. */
export interface ResyncDeps extends ApplyDeps {
  client: ClusterClient;
  queue: ApplyQueue;
  reporter: Reporter;
}

/**
 * Re-reads each workload's desired state; applies it, or removes the workload when it is gone.
 * A resync answer is older than anything the watch loop applied to that workload after the
 * request went out, so then it is dropped: resync repairs drift, it never rolls a change back.
 */
export async function resync(deps: ResyncDeps): Promise<void> {
  const { client, driver } = deps;
  for (const w of driver.list("deployment")) {
    await resyncOne(
      deps,
      "deployment",
      w,
      () => client.getDesiredDeploymentState({ deploymentId: w.id }),
      (st) => applyDeploymentState(deps, st, "resync"),
    );
  }
  for (const w of driver.list("sentinel")) {
    await resyncOne(
      deps,
      "sentinel",
      w,
      () => client.getDesiredSentinelState({ sentinelId: w.id }),
      (st) => applySentinelState(deps, st, "resync"),
    );
  }
  // A full report repairs anything a lost report left behind.
  deps.reporter.markAll();
}

async function resyncOne<S>(
  deps: ResyncDeps,
  kind: WorkloadKind,
  w: DesiredWorkload,
  fetch: () => Promise<S>,
  apply: (s: S) => Promise<void>,
): Promise<void> {
  const { queue, logger, driver } = deps;
  const before = queue.watchAppliesOf(kind, w.name);
  let state: S | undefined;
  let gone = false;
  try {
    state = await fetch();
  } catch (err) {
    if (!(err instanceof ConnectError && err.code === Code.NotFound)) throw err;
    gone = true;
  }
  await queue.run(async () => {
    if (queue.watchAppliesOf(kind, w.name) !== before) return;
    if (gone) {
      logger.info({ kind, workload: w.name, id: w.id }, "resync: no longer desired here; removing it");
      await driver.delete(kind, w.name);
    } else await apply(state as S);
  });
}

/** Runs `pass` right away (GC of what was deleted while the agent was down), then every `intervalMs`, retrying failures with backoff. */
export class ResyncLoop {
  private readonly abort = new AbortController();
  private done?: Promise<void>;
  /** Passes that succeeded (tests and /status). */
  passes = 0;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.done ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    const backoff = new Backoff(500, 10_000);
    let wait = 0;
    while (!signal.aborted) {
      await sleep(wait, signal);
      if (signal.aborted) break;
      try {
        await this.pass();
        this.passes++;
        backoff.reset();
        wait = this.intervalMs;
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, "resync failed; retrying");
        wait = backoff.next();
      }
    }
  }
}
