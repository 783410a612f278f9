import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { Driver } from "../driver.js";
import type { ObservedWorkload, WorkloadKind } from "../workload.js";
import { Reporter } from "./reporter.js";

class FakeDriver implements Pick<Driver, "onChange" | "observe" | "list"> {
  listeners = new Set<(k: WorkloadKind, n: string) => void>();
  state = new Map<string, ObservedWorkload>();
  onChange(l: (k: WorkloadKind, n: string) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  observe(_k: WorkloadKind, n: string) {
    return this.state.get(n);
  }
  list() {
    return [];
  }
  change(name: string, replicas: number) {
    this.state.set(name, { kind: "deployment", name, image: "i", desiredReplicas: replicas, instances: [] });
    for (const l of this.listeners) l("deployment", name);
  }
}

describe("reporter", () => {
  it("coalesces bursts into one report of the latest state, retries failures, and never drops a change", async () => {
    const driver = new FakeDriver();
    const sent: Array<{ name: string; replicas: number | undefined }> = [];
    let failNext = 2;
    const reporter = new Reporter(
      driver as unknown as Driver,
      async (_kind, name, observed) => {
        if (name === "flaky" && failNext-- > 0) throw new Error("control plane down");
        sent.push({ name, replicas: observed?.desiredReplicas });
      },
      { batchWindowMs: 20, concurrency: 4, logger: pino({ level: "silent" }) },
    );
    reporter.start();
    for (let i = 1; i <= 50; i++) driver.change("burst", i);
    driver.change("flaky", 1);
    const deadline = Date.now() + 10_000;
    while (!(sent.some((s) => s.name === "flaky") && sent.some((s) => s.name === "burst" && s.replicas === 50)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await reporter.stop();
    const bursts = sent.filter((s) => s.name === "burst");
    expect(bursts.at(-1)).toEqual({ name: "burst", replicas: 50 });
    expect(bursts.length).toBeLessThan(5);
    expect(sent.filter((s) => s.name === "flaky")).toEqual([{ name: "flaky", replicas: 1 }]);
  });
});
