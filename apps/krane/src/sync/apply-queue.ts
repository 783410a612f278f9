import type { WorkloadKind } from "../workload.js";

/**
 * Every driver change (both watch loops and resync) goes through one queue, so spec writes and
 * the resync staleness check never interleave. Watch applies are counted per workload: a resync
 * answer for a workload the watch loop changed meanwhile is stale.
 */
export class ApplyQueue {
  private queue: Promise<unknown> = Promise.resolve();
  /** Watch applies per workload (`kind/name`), for the resync staleness check. */
  private readonly watchApplies = new Map<string, number>();

  /** Runs `fn` after everything queued before it (whether that failed or not). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A watch loop's apply: queued, then counted for the workload it named. */
  fromWatch<S extends { state: { case?: string; value?: { k8sName: string } } }>(kind: WorkloadKind, apply: (s: S) => Promise<void>) {
    return (message: S) =>
      this.run(async () => {
        await apply(message);
        const name = message.state.value?.k8sName;
        if (name) this.watchApplies.set(`${kind}/${name}`, this.watchAppliesOf(kind, name) + 1);
      });
  }

  /** How many watch applies of the workload ran so far. */
  watchAppliesOf(kind: WorkloadKind, name: string): number {
    return this.watchApplies.get(`${kind}/${name}`) ?? 0;
  }
}
