/**
 * Abort helpers that leave no listener behind. A long `ctrl deploy` polls hundreds of times under one
 * AbortSignal; Connect links every call's signal with a listener it removes only on abort, and a
 * sleep's `{once: true}` listener stays until abort too — past 10 Node warns
 * (MaxListenersExceededWarning) on stderr. These attach to the long-lived signal only for as long as
 * one call or one sleep lasts.
 */

/** Waits `ms`, or less when `signal` aborts; removes its listener either way. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Runs `call` with a signal of its own that aborts with `parent`, detached from `parent` once the call settles. */
export async function withLinkedSignal<T>(parent: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const child = new AbortController();
  const onAbort = () => child.abort(parent.reason);
  if (parent.aborted) child.abort(parent.reason);
  else parent.addEventListener("abort", onAbort, { once: true });
  try {
    return await call(child.signal);
  } finally {
    parent.removeEventListener("abort", onAbort);
  }
}

/** Runs `iterate` over a stream opened with a linked signal (see {@link withLinkedSignal}) until it ends. */
export async function forEachLinked<T>(
  parent: AbortSignal,
  open: (signal: AbortSignal) => AsyncIterable<T>,
  each: (item: T) => void,
): Promise<void> {
  await withLinkedSignal(parent, async (signal) => {
    for await (const item of open(signal)) each(item);
  });
}
