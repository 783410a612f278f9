import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { forEachLinked, sleep, withLinkedSignal } from "./abort.js";

describe("abort helpers", () => {
  it("leave no listener on the long-lived signal after many sleeps and calls (no MaxListeners warning)", async () => {
    const stop = new AbortController();
    for (let i = 0; i < 50; i++) {
      await sleep(0, stop.signal);
      await withLinkedSignal(stop.signal, async (signal) => {
        // What Connect does with a call's signal: a listener removed only on abort.
        signal.addEventListener("abort", () => undefined);
        return i;
      });
      await forEachLinked(
        stop.signal,
        async function* (signal) {
          signal.addEventListener("abort", () => undefined);
          yield i;
        },
        () => undefined,
      );
    }
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
  });

  it("still abort the call and end the sleep when the parent aborts", async () => {
    const stop = new AbortController();
    const call = withLinkedSignal(
      stop.signal,
      (signal) => new Promise<string>((resolve) => signal.addEventListener("abort", () => resolve(String(signal.reason)))),
    );
    const slept = sleep(60_000, stop.signal);
    stop.abort("stop");
    expect(await call).toBe("stop");
    await slept;
    expect(await withLinkedSignal(stop.signal, async (signal) => signal.aborted)).toBe(true);
  });
});
