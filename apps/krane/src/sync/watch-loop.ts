import type { Logger } from "pino";
import { Backoff, sleep } from "./backoff.js";
import type { CursorStore } from "./cursor.js";

/** What a watch loop needs for one resource kind. */
export interface WatchLoopOptions<M> {
  name: string;
  cursor: CursorStore;
  /** Opens the server stream of changes with version > `after`. */
  open(after: bigint, signal: AbortSignal): AsyncIterable<M>;
  version(message: M): bigint;
  /** Applies one change durably (driver.apply/delete); throwing stops the stream and retries it later. */
  apply(message: M): Promise<void>;
  logger: Logger;
  backoff?: Backoff;
}

/**
 * desired → apply: streams changes from the persisted cursor, applies each in order, persists the
 * cursor after each applied change, and reconnects with jittered backoff whenever the stream
 * breaks (control-plane restart, network, an apply failure). A version at or below the cursor is a
 * replay and is skipped, so nothing is applied twice.
 */
export class WatchLoop<M> {
  private readonly abort = new AbortController();
  private done?: Promise<void>;
  /** Stream connections opened so far (tests and /status). */
  connections = 0;
  connected = false;

  constructor(private readonly opts: WatchLoopOptions<M>) {}

  start(): void {
    this.done ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private async run(): Promise<void> {
    const { logger, cursor } = this.opts;
    const backoff = this.opts.backoff ?? new Backoff(250, 10_000);
    while (!this.abort.signal.aborted) {
      const after = cursor.get();
      const attempt = new AbortController();
      const onAbort = () => attempt.abort();
      this.abort.signal.addEventListener("abort", onAbort, { once: true });
      const openedAt = Date.now();
      try {
        const stream = this.opts.open(after, attempt.signal);
        this.connections++;
        let first = true;
        for await (const message of stream) {
          if (first) {
            first = false;
            this.connected = true;
            backoff.reset();
          }
          const version = this.opts.version(message);
          if (version <= cursor.get()) {
            logger.debug(
              { stream: this.opts.name, version: String(version), cursor: String(cursor.get()) },
              "skipping a version already applied",
            );
            continue;
          }
          await this.opts.apply(message);
          await cursor.set(version);
        }
        // A clean end (server shutdown) is just a reconnect.
        if (!this.abort.signal.aborted) logger.info({ stream: this.opts.name }, "watch stream ended; reconnecting");
      } catch (err) {
        if (this.abort.signal.aborted) break;
        logger.warn(
          { stream: this.opts.name, err: (err as Error).message, cursor: String(cursor.get()) },
          "watch stream broke; reconnecting",
        );
      } finally {
        // A stream that stayed up a while was a success, even if it carried no message.
        if (Date.now() - openedAt > 5_000) backoff.reset();
        this.connected = false;
        attempt.abort();
        this.abort.signal.removeEventListener("abort", onAbort);
      }
      await sleep(backoff.next(), this.abort.signal);
    }
  }
}
