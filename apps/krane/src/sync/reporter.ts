import type { Logger } from "pino";
import type { Driver } from "../driver.js";
import { workloadKey, type ObservedWorkload, type WorkloadKind } from "../workload.js";
import { Backoff, sleep } from "./backoff.js";

/** Sends one workload's observed state (undefined: it is gone). Resolves once the control plane accepted it. */
export type SendReport = (kind: WorkloadKind, name: string, observed: ObservedWorkload | undefined) => Promise<void>;

/** Options for {@link Reporter}. */
export interface ReporterOptions {
  /** Changes within this window are coalesced into one report per workload. */
  batchWindowMs: number;
  /** Reports in flight at once. */
  concurrency: number;
  logger: Logger;
}

/**
 * actual → report: collects the workloads whose observed state changed (from `driver.onChange`),
 * and after a short window reports each one's *current* state, several in parallel. A failed
 * report puts the workload back in the set and is retried with backoff; since each report carries
 * the full current state, coalescing and retrying never send stale data. It runs on its own and
 * never blocks the apply loops.
 */
export class Reporter {
  private readonly dirty = new Map<string, { kind: WorkloadKind; name: string }>();
  private wake?: () => void;
  private readonly abort = new AbortController();
  private done?: Promise<void>;
  private unsubscribe?: () => void;
  /** Reports sent successfully (tests and /status). */
  sent = 0;

  constructor(
    private readonly driver: Driver,
    private readonly send: SendReport,
    private readonly opts: ReporterOptions,
  ) {}

  start(): void {
    this.unsubscribe = this.driver.onChange((kind, name) => this.mark(kind, name));
    this.done ??= this.run();
  }

  /** Queues a report of the workload's current state. */
  mark(kind: WorkloadKind, name: string): void {
    this.dirty.set(workloadKey(kind, name), { kind, name });
    this.wake?.();
  }

  /** Queues a report of everything the driver runs (after a restart or reconnect). */
  markAll(): void {
    for (const kind of ["deployment", "sentinel"] as const) for (const w of this.driver.list(kind)) this.mark(kind, w.name);
  }

  /** Stops after one last attempt to send what is pending (bounded by `graceMs`). */
  async stop(graceMs = 2_000): Promise<void> {
    this.unsubscribe?.();
    const flushed = this.flush().catch(() => undefined);
    await Promise.race([flushed, sleep(graceMs)]);
    this.abort.abort();
    this.wake?.();
    await this.done;
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(200, 5_000);
    while (!this.abort.signal.aborted) {
      if (this.dirty.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      await sleep(this.opts.batchWindowMs, this.abort.signal);
      const failed = await this.flush();
      if (failed > 0) await sleep(backoff.next(), this.abort.signal);
      else backoff.reset();
    }
  }

  /** Reports every dirty workload once; returns how many failed (they stay dirty). */
  private async flush(): Promise<number> {
    const batch = [...this.dirty.values()];
    this.dirty.clear();
    let failed = 0;
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const item = batch[next++]!;
        try {
          await this.send(item.kind, item.name, this.driver.observe(item.kind, item.name));
          this.sent++;
        } catch (err) {
          failed++;
          const key = workloadKey(item.kind, item.name);
          if (!this.dirty.has(key)) this.dirty.set(key, item);
          this.opts.logger.warn({ kind: item.kind, workload: item.name, err: (err as Error).message }, "report failed; will retry");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, batch.length) }, worker));
    return failed;
  }
}
