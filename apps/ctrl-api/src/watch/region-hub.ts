import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { abortableSleep } from "./sleep.js";

/** Something with a region version. */
export interface Versioned {
  version: number;
}

/** Where a {@link RegionHub} reads a region's versioned rows. */
export interface RegionFeedSource<T extends Versioned> {
  /** Rows of `region` with version > `after`, ascending, at most `limit`. */
  listAfter(region: string, after: number, limit: number): Promise<T[]>;
  /** Highest version of `region` now (where a new poller starts). */
  maxVersion(region: string): Promise<number>;
  /** The region's current desired rows and the version V they are a consistent snapshot of. */
  snapshot(region: string): Promise<{ version: number; rows: T[] }>;
}

/** Options of a {@link RegionHub}. */
export interface RegionHubOptions {
  /** Pause between two polls that found nothing new (ms). */
  pollIntervalMs: number;
  /** Rows per query; a full page is followed by another query at once. */
  batchSize?: number;
  /** A watcher this far behind (queued rows) is cut off with resource_exhausted; it reconnects with its cursor. */
  maxQueue?: number;
  logger: Logger;
  /** Names the feed in logs (`deployments`, `sentinels`). */
  name: string;
}

/** One connected watcher of a region poller. */
class Subscriber<T extends Versioned> {
  queue: T[] = [];
  failure: Error | undefined;
  private wake: (() => void) | undefined;

  push(rows: T[], maxQueue: number): void {
    if (this.failure) return;
    this.queue.push(...rows);
    if (this.queue.length > maxQueue) {
      this.queue = [];
      this.failure = new ConnectError(
        `watcher fell more than ${maxQueue} changes behind; reconnect with the last version you applied`,
        Code.ResourceExhausted,
      );
    }
    this.notify();
  }

  fail(err: Error): void {
    this.failure = err;
    this.notify();
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves when rows arrive, the subscriber fails, or `signal` aborts. */
  waitForRows(signal: AbortSignal): Promise<void> {
    if (this.queue.length || this.failure || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      this.wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
    });
  }
}

/**
 * One poll loop for one region: reads `version > covered` every tick and hands the rows to every
 * subscriber, so N watchers of a region cost one query per tick. `covered` only grows: every row
 * with version ≤ covered has been broadcast (the versioning invariant makes "seen version V"
 * imply "every version < V is committed").
 */
class RegionPoller<T extends Versioned> {
  readonly subscribers = new Set<Subscriber<T>>();
  covered = 0;
  readonly ready: Promise<void>;
  private readonly stop = new AbortController();

  constructor(
    private readonly source: RegionFeedSource<T>,
    readonly region: string,
    private readonly options: Required<Omit<RegionHubOptions, "logger" | "name">> & Pick<RegionHubOptions, "logger" | "name">,
    private readonly onIdle: () => void,
  ) {
    this.ready = source.maxVersion(region).then((v) => {
      this.covered = v;
      void this.loop();
    });
    // A failed start is reported to whoever awaits `ready`; the hub drops this poller then.
    this.ready.catch(() => this.onIdle());
  }

  private async loop(): Promise<void> {
    const { logger, name, pollIntervalMs, batchSize } = this.options;
    let failures = 0;
    while (!this.stop.signal.aborted) {
      try {
        const rows = await this.source.listAfter(this.region, this.covered, batchSize);
        failures = 0;
        if (rows.length) {
          this.covered = rows[rows.length - 1]!.version;
          for (const s of this.subscribers) s.push(rows, this.options.maxQueue);
          if (rows.length === batchSize) continue;
        }
      } catch (err) {
        failures++;
        logger.error({ err, region: this.region, feed: name, failures }, "region poll failed; retrying");
      }
      await abortableSleep(failures ? Math.min(pollIntervalMs * 2 ** failures, 5_000) : pollIntervalMs, this.stop.signal);
    }
  }

  /** Registers a subscriber and returns the version up to which rows were already broadcast. */
  add(sub: Subscriber<T>): number {
    this.subscribers.add(sub);
    return this.covered;
  }

  remove(sub: Subscriber<T>): void {
    this.subscribers.delete(sub);
    if (this.subscribers.size === 0) {
      this.stop.abort();
      this.onIdle();
    }
  }
}

/**
 * Fans a region's versioned rows out to every watcher of that region in this process: one
 * {@link RegionPoller} per region, started by the first watcher and stopped with the last.
 *
 * A watcher's stream (see {@link RegionHub.watch}):
 * - cursor 0: the region's current desired rows as of a consistent snapshot version V (in version
 *   order), then every row with version > V;
 * - cursor N: every row with version > N, in version order.
 * It never repeats or reorders a version: each row is yielded only if its version is above the
 * last one yielded. Between the snapshot (or cursor) and what the shared poller has already
 * broadcast it catches up with its own queries, bounded by the poller's coverage at join time;
 * rows the poller broadcasts meanwhile are queued and follow.
 */
export class RegionHub<T extends Versioned> {
  private readonly pollers = new Map<string, RegionPoller<T>>();
  private readonly options: Required<Omit<RegionHubOptions, "logger" | "name">> & Pick<RegionHubOptions, "logger" | "name">;

  constructor(
    private readonly source: RegionFeedSource<T>,
    options: RegionHubOptions,
  ) {
    this.options = { batchSize: 500, maxQueue: 100_000, ...options };
  }

  /** Number of regions polled right now (one poller each). */
  get activeRegions(): number {
    return this.pollers.size;
  }

  private poller(region: string): RegionPoller<T> {
    let poller = this.pollers.get(region);
    if (!poller) {
      const created: RegionPoller<T> = new RegionPoller(this.source, region, this.options, () => {
        if (this.pollers.get(region) === created) this.pollers.delete(region);
      });
      poller = created;
      this.pollers.set(region, poller);
    }
    return poller;
  }

  /**
   * Streams `region` from `cursor` (0 = snapshot first) until `signal` aborts. `onSnapshot` is told
   * the snapshot version when one is taken (for logs and tests).
   */
  async *watch(
    region: string,
    cursor: number,
    signal: AbortSignal,
    onSnapshot?: (version: number, rows: number) => void,
  ): AsyncGenerator<T> {
    let sent = cursor;
    if (cursor === 0) {
      const snap = await this.source.snapshot(region);
      onSnapshot?.(snap.version, snap.rows.length);
      for (const row of snap.rows) {
        if (signal.aborted) return;
        yield row;
        sent = Math.max(sent, row.version);
      }
      // Defensive max: a consistent snapshot never holds a row above its own version.
      sent = Math.max(sent, snap.version);
    }
    const sub = new Subscriber<T>();
    let poller = this.poller(region);
    await poller.ready;
    // The poller may have gone idle and been replaced while we awaited; join the live one.
    while (this.pollers.get(region) !== poller) {
      poller = this.poller(region);
      await poller.ready;
    }
    const coveredAtJoin = poller.add(sub);
    try {
      // Catch up (sent, coveredAtJoin] ourselves: those rows were broadcast before we joined.
      while (sent < coveredAtJoin && !signal.aborted) {
        const rows = await this.source.listAfter(region, sent, this.options.batchSize);
        let progressed = false;
        for (const row of rows) {
          if (row.version > coveredAtJoin) break;
          yield row;
          sent = row.version;
          progressed = true;
          if (signal.aborted) return;
        }
        if (!progressed) break;
      }
      while (!signal.aborted) {
        await sub.waitForRows(signal);
        if (sub.failure) throw sub.failure;
        const rows = sub.queue;
        sub.queue = [];
        for (const row of rows) {
          if (row.version <= sent) continue;
          yield row;
          sent = row.version;
          if (signal.aborted) return;
        }
      }
    } finally {
      poller.remove(sub);
    }
  }
}
