import { describe, expect, it } from "vitest";
import { startPoller } from "../src/poller.js";

describe("startPoller", () => {
  it("refreshes once up front (full), then repeatedly, and fails start when the first refresh fails", async () => {
    const calls: boolean[] = [];
    const poller = await startPoller({
      intervalMs: 5,
      fullEveryMs: 1e9,
      refresh: async (full) => void calls.push(full),
      onError: () => undefined,
    });
    expect(calls).toEqual([true]);
    await poller.nextRefresh(1_000);
    await poller.nextRefresh(1_000);
    await poller.stop();
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(calls.slice(1).every((full) => !full)).toBe(true);
    await expect(
      startPoller({
        intervalMs: 5,
        fullEveryMs: 1e9,
        refresh: async () => {
          throw new Error("db down");
        },
        onError: () => undefined,
      }),
    ).rejects.toThrow("db down");
  });

  it("nextRefresh waits for a refresh that started after the call", async () => {
    let reads = 0;
    let value = 0;
    const poller = await startPoller({
      intervalMs: 20,
      fullEveryMs: 1e9,
      refresh: async () => {
        reads = value;
      },
      onError: () => undefined,
    });
    value = 42;
    await poller.nextRefresh(5_000);
    expect(reads).toBe(42);
    await poller.stop();
  });

  it("nextRefresh does not force extra refreshes (many waiters share the scheduled one)", async () => {
    let refreshes = 0;
    const poller = await startPoller({
      intervalMs: 200,
      fullEveryMs: 1e9,
      refresh: async () => void refreshes++,
      onError: () => undefined,
    });
    await Promise.all(Array.from({ length: 50 }, () => poller.nextRefresh(5_000)));
    await poller.stop();
    // The initial refresh plus at most two scheduled ones, however many waited.
    expect(refreshes).toBeLessThanOrEqual(3);
  });

  it("keeps going after a failed refresh and reports it", async () => {
    const errors: unknown[] = [];
    let n = 0;
    const poller = await startPoller({
      intervalMs: 1,
      fullEveryMs: 1e9,
      refresh: async () => {
        n++;
        if (n === 2) throw new Error("transient");
      },
      onError: (err) => errors.push(err),
    });
    await poller.nextRefresh(1_000);
    await poller.nextRefresh(1_000);
    await poller.stop();
    expect(errors).toHaveLength(1);
    expect(n).toBeGreaterThanOrEqual(3);
  });
});
