import { Code, ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { RegionHub, type RegionFeedSource } from "./region-hub.js";

/**
 * The hub's merge logic over an in-memory region log (the versioning invariant holds by
 * construction: rows are appended in version order). The integration tests run it on MariaDB.
 */
class MemoryRegion implements RegionFeedSource<{ version: number; id: string; running: boolean }> {
  rows: { version: number; id: string; running: boolean }[] = [];
  queries = 0;
  private next = 1;
  commit(id: string, running = true) {
    // A row changes in place: its old version disappears, like an updated topology row.
    this.rows = this.rows.filter((r) => r.id !== id);
    const row = { version: this.next++, id, running };
    this.rows.push(row);
    return row.version;
  }
  /** Queries running at once, and the most seen: one poller never overlaps with itself. */
  inFlight = 0;
  maxInFlight = 0;
  async listAfter(_region: string, after: number, limit: number) {
    this.queries++;
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    // Yield to the event loop like a real query does, so concurrent pollers would overlap here.
    await new Promise((r) => setImmediate(r));
    this.inFlight--;
    return this.rows
      .filter((r) => r.version > after)
      .sort((a, b) => a.version - b.version)
      .slice(0, limit);
  }
  async maxVersion() {
    return Math.max(0, ...this.rows.map((r) => r.version));
  }
  async snapshot() {
    // Both read from the same state in one synchronous step: a consistent snapshot, like the
    // REPEATABLE READ transaction of the real source.
    const version = Math.max(0, ...this.rows.map((r) => r.version));
    return { version, rows: this.rows.filter((r) => r.running).sort((a, b) => a.version - b.version) };
  }
}

const logger = pino({ level: "silent" });
const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
};

function collect(hub: RegionHub<{ version: number; id: string; running: boolean }>, cursor: number) {
  const abort = new AbortController();
  const got: { version: number; id: string; running: boolean }[] = [];
  let error: unknown;
  const done = (async () => {
    try {
      for await (const row of hub.watch("r", cursor, abort.signal)) got.push(row);
    } catch (err) {
      error = err;
    }
  })();
  return { got, versions: () => got.map((r) => r.version), error: () => error, stop: async () => (abort.abort(), await done), done };
}

describe("RegionHub", () => {
  it("cursor 0: running rows of the snapshot, then later commits; cursor N: everything after N", async () => {
    const region = new MemoryRegion();
    region.commit("a");
    region.commit("b");
    region.commit("b", false); // b stopped: not in a snapshot
    region.commit("c");
    const hub = new RegionHub(region, { pollIntervalMs: 5, logger, name: "test" });
    const fresh = collect(hub, 0);
    const resumed = collect(hub, 1);
    await until(() => fresh.got.length === 2 && resumed.got.length === 2, "initial rows");
    region.commit("d");
    await until(() => fresh.got.length === 3 && resumed.got.length === 3, "live row");
    expect(fresh.got.map((r) => r.id)).toEqual(["a", "c", "d"]);
    expect(resumed.got.map((r) => [r.id, r.running])).toEqual([
      ["b", false],
      ["c", true],
      ["d", true],
    ]);
    await Promise.all([fresh.stop(), resumed.stop()]);
    expect(hub.activeRegions).toBe(0);
  });

  it("a watcher joining a running poller catches up by itself and never repeats or reorders", async () => {
    const region = new MemoryRegion();
    const hub = new RegionHub(region, { pollIntervalMs: 2, batchSize: 3, logger, name: "test" });
    const first = collect(hub, 0);
    const ids = Array.from({ length: 60 }, (_, i) => `d${i}`);
    const joiners: ReturnType<typeof collect>[] = [];
    for (const [i, id] of ids.entries()) {
      region.commit(id);
      if (i % 10 === 5) joiners.push(collect(hub, i % 20 === 5 ? 0 : i - 3));
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 3));
    }
    await until(() => first.got.length === 60 && joiners.every((j) => j.got.at(-1)?.version === 60), "everyone at version 60").catch(
      (err) => {
        throw new Error(`${err.message}: ${JSON.stringify([first, ...joiners].map((w) => [w.versions().join(","), String(w.error())]))}`);
      },
    );
    for (const w of [first, ...joiners]) {
      const v = w.versions();
      for (let i = 1; i < v.length; i++) expect(v[i]).toBeGreaterThan(v[i - 1]!);
    }
    expect(first.versions()).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    // A resumed joiner got exactly the versions after its cursor.
    const resumed = joiners[1]!; // joined at i = 15 with cursor 12
    expect(resumed.versions()).toEqual(Array.from({ length: 48 }, (_, i) => i + 13));
    await Promise.all([first, ...joiners].map((w) => w.stop()));
  });

  it("serves all watchers of a region with one query per tick", async () => {
    const region = new MemoryRegion();
    const hub = new RegionHub(region, { pollIntervalMs: 20, logger, name: "test" });
    const watchers = Array.from({ length: 50 }, () => collect(hub, 5));
    await until(() => hub.activeRegions === 1, "the poller");
    // Counted, not timed: a stalled poller fails the first wait, one poller per watcher the counts.
    region.queries = 0;
    region.maxInFlight = 0;
    await until(() => region.queries >= 5, "five poll ticks");
    expect(region.maxInFlight).toBe(1);
    // One new row reaches all 50 watchers in a tick or two; 50 pollers would need 50 queries to see it.
    for (let i = 0; i < 5; i++) region.commit(`below-cursor-${i}`); // the watchers resume after 5
    region.queries = 0;
    const version = region.commit("new");
    await until(() => watchers.every((w) => w.got.at(-1)?.version === version), "all 50 watchers to get the new row");
    expect(region.queries).toBeLessThanOrEqual(3);
    expect(region.maxInFlight).toBe(1);
    await Promise.all(watchers.map((w) => w.stop()));
  });

  it("cuts off a watcher that falls too far behind with resource_exhausted", async () => {
    const region = new MemoryRegion();
    const hub = new RegionHub(region, { pollIntervalMs: 2, maxQueue: 5, logger, name: "test" });
    const abort = new AbortController();
    const iterator = hub.watch("r", 1_000_000, abort.signal)[Symbol.asyncIterator]();
    const first = iterator.next(); // joins, then waits for rows
    await until(() => hub.activeRegions === 1, "the poller");
    for (let i = 0; i < 20; i++) region.commit(`x${i}`);
    // All 20 rows are above the queue limit; the cursor filters them, but the queue overflowed first.
    await expect(first).rejects.toSatisfy((err: unknown) => err instanceof ConnectError && err.code === Code.ResourceExhausted);
    abort.abort();
    await until(() => hub.activeRegions === 0, "the poller to stop");
  });
});
