/** Options of {@link startPoller}. */
export interface PollerOptions {
  /** Time between the end of one refresh and the start of the next. */
  intervalMs: number;
  /** One refresh: check for changes and load what changed. `full` asks for an unconditional reload. */
  refresh: (full: boolean) => Promise<void>;
  /** Every this many ms a refresh is `full` (a safety net under the cheap change check). */
  fullEveryMs: number;
  /** Told about a failed refresh; the previous state keeps serving. */
  onError: (err: unknown) => void;
  now?: () => number;
}

/** A running refresh loop. */
export interface Poller {
  /** Resolves after a scheduled refresh that started after this call completed (or after `timeoutMs`). */
  nextRefresh(timeoutMs: number): Promise<void>;
  /** When the last refresh succeeded (ms), or 0. */
  lastSuccessAt(): number;
  stop(): Promise<void>;
}

/**
 * Runs `refresh` in a loop (never two at once) after an initial refresh that must succeed. Keeps
 * serving the last good state through failures, which it reports.
 */
export async function startPoller(options: PollerOptions): Promise<Poller> {
  const now = options.now ?? Date.now;
  await options.refresh(true);
  let lastSuccess = now();
  let lastFull = lastSuccess;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  // Waiters registered while a refresh runs must wait for the following one (it may have read before their change).
  let waitingForNext: Array<() => void> = [];
  let waitingForThis: Array<() => void> = [];

  const cycle = async () => {
    timer = undefined;
    if (stopped) return;
    const started = now();
    const full = started - lastFull >= options.fullEveryMs;
    waitingForThis = waitingForNext;
    waitingForNext = [];
    running = options.refresh(full).then(
      () => {
        lastSuccess = now();
        if (full) lastFull = started;
      },
      (err) => options.onError(err),
    );
    await running;
    running = undefined;
    for (const resolve of waitingForThis) resolve();
    waitingForThis = [];
    if (!stopped) timer = setTimeout(cycle, options.intervalMs);
  };
  timer = setTimeout(cycle, options.intervalMs);

  return {
    nextRefresh(timeoutMs) {
      return new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        // Waits for the next scheduled refresh rather than forcing one: a flood of requests for
        // unknown hosts must not turn into back-to-back database queries.
        waitingForNext.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    lastSuccessAt: () => lastSuccess,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      for (const resolve of [...waitingForNext, ...waitingForThis]) resolve();
    },
  };
}
