import { describe, expect, it } from "vitest";
import { ApplyQueue } from "./apply-queue.js";

/**
 * The agent's one queue of driver changes: watch applies and resync applies never interleave, and
 * a resync can tell that the watch loop changed a workload while its answer was in flight.
 */
describe("ApplyQueue", () => {
  it("runs changes one at a time in order, a failure not blocking the next", async () => {
    const queue = new ApplyQueue();
    const log: string[] = [];
    let release!: () => void;
    const first = queue.run(async () => {
      log.push("first start");
      await new Promise<void>((r) => (release = r));
      log.push("first end");
    });
    const failing = queue.run(async () => {
      log.push("second");
      throw new Error("boom");
    });
    const third = queue.run(async () => {
      log.push("third");
      return 3;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(["first start"]);
    release();
    await first;
    await expect(failing).rejects.toThrow("boom");
    expect(await third).toBe(3);
    expect(log).toEqual(["first start", "first end", "second", "third"]);
  });

  it("counts watch applies per workload once they succeeded", async () => {
    const queue = new ApplyQueue();
    const seen: string[] = [];
    const apply = queue.fromWatch("deployment", async (m: { state: { case?: string; value?: { k8sName: string } } }) => {
      if (m.state.value?.k8sName === "bad") throw new Error("refused");
      seen.push(m.state.value?.k8sName ?? "-");
    });
    await apply({ state: { case: "apply", value: { k8sName: "d1" } } });
    await apply({ state: { case: "delete", value: { k8sName: "d1" } } });
    await expect(apply({ state: { case: "apply", value: { k8sName: "bad" } } })).rejects.toThrow("refused");
    await apply({ state: {} });
    expect(seen).toEqual(["d1", "d1", "-"]);
    expect(queue.watchAppliesOf("deployment", "d1")).toBe(2);
    expect(queue.watchAppliesOf("sentinel", "d1")).toBe(0);
    expect(queue.watchAppliesOf("deployment", "bad")).toBe(0);
  });
});
