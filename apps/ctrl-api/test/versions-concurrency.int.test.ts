/**
 * Versions under concurrency (docs/architecture.md "Versions"): 50 deploys started at once in one region
 * while watchers stream WatchDeployments. Guarantees: a watcher connected before receives every
 * topology row of the region exactly once, in strictly increasing version order, with no gap it
 * later fills (each version is above every one before it), and exactly the rows the database holds;
 * a watcher that joins mid-burst (snapshot + catch-up + the shared poller) and one that resumes from
 * a cursor keep the same order and end with the same desired state.
 */
import type { DeploymentState } from "@ctrl/proto";
import { waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, clients, createWorkspace, FakeAgent, runningOnSight, startDeployStack } from "./fake-agent.js";
import type { TestStack } from "./harness.js";

const region = "burst";
let stack: TestStack;

beforeAll(async () => {
  stack = await startDeployStack({ regions: [region], readinessTimeoutMs: 60_000, readinessPollMs: 100, openapiTimeoutMs: 200 });
}, 90_000);
afterAll(async () => stack?.close());

/** A WatchDeployments stream recorded until stopped. */
function record(cursor: bigint) {
  const abort = new AbortController();
  const received: DeploymentState[] = [];
  const done = (async () => {
    try {
      for await (const s of clients(stack).cluster.watchDeployments(
        { region, versionLastSeen: cursor },
        { ...bearer(await stack.agentToken(region)), signal: abort.signal },
      ))
        received.push(s);
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  })();
  return {
    received,
    versions: () => received.map((s) => Number(s.version)),
    applied: () => received.filter((s) => s.state.case === "apply").map((s) => (s.state.value as { deploymentId: string }).deploymentId),
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

/** Strictly increasing: no repeat, no reorder, no gap filled later. */
function expectStrictlyIncreasing(versions: number[]) {
  for (let i = 1; i < versions.length; i++)
    expect(versions[i], `position ${i}: ${versions[i - 1]} then ${versions[i]}`).toBeGreaterThan(versions[i - 1]!);
}

describe("versions under concurrency", () => {
  it("50 concurrent deploys in one region reach a watcher exactly once each, in strictly increasing version order", async () => {
    const projects = await Promise.all(Array.from({ length: 5 }, () => createWorkspace(stack.deps.db)));
    const early = record(0n);
    const agent = new FakeAgent(stack, region, runningOnSight).start();
    try {
      let mid: ReturnType<typeof record> | undefined;
      const ids = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const p = projects[i % projects.length]!;
          const res = await clients(stack).deployments.createDeployment(
            {
              projectId: p.projectId,
              environmentSlug: i % 2 ? "preview" : "production",
              branch: `b${i}`,
              source: { case: "dockerImage", value: `registry.test/app:${i}` },
            },
            bearer(stack.operatorToken),
          );
          // A second watcher joins from scratch in the middle of the burst.
          if (i === 25) mid = record(0n);
          return res.deploymentId;
        }),
      );
      const topology = await waitFor(
        "every deploy's topology row",
        async () => {
          const rows = await stack.deps.db
            .selectFrom("deployment_topology")
            .select(["deployment_id", "version"])
            .where("region", "=", region)
            .orderBy("version")
            .execute();
          return rows.length === 50 ? rows : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      const expected = topology.map((r) => [Number(r.version), r.deployment_id]);
      await waitFor("the early watcher to get every row", () => early.received.length >= 50, { timeoutMs: 30_000 });
      await waitFor("the mid watcher to converge", () => new Set(mid?.applied()).size === 50, { timeoutMs: 30_000 });
      const late = record(BigInt(expected[19]![0] as number)); // resumes after the 20th version
      await waitFor("the late watcher to catch up", () => late.received.length >= 30, { timeoutMs: 30_000 });
      // Let every deploy finish so no row changes under the final comparison.
      await waitFor(
        "every deploy to be ready",
        async () => {
          const rows = await stack.deps.db.selectFrom("deployments").select("status").where("id", "in", ids).execute();
          return rows.every((r) => r.status === "ready") || undefined;
        },
        { timeoutMs: 90_000, intervalMs: 200 },
      );
      await Promise.all([early.stop(), mid!.stop(), late.stop()]);

      // The early watcher: exactly the database's rows, each once, in version order.
      expectStrictlyIncreasing(early.versions());
      expect(early.received.map((s) => [Number(s.version), s.state.case === "apply" ? s.state.value.deploymentId : "?"])).toEqual(expected);
      expect(new Set(early.applied())).toEqual(new Set(ids));
      // The mid-burst joiner: snapshot then catch-up then live, still strictly increasing.
      expectStrictlyIncreasing(mid!.versions());
      expect(mid!.applied().sort()).toEqual([...ids].sort());
      // The resumed watcher: exactly the rows after its cursor.
      expect(late.received.map((s) => [Number(s.version), s.state.case === "apply" ? s.state.value.deploymentId : "?"])).toEqual(
        expected.slice(20),
      );
      // The agent itself saw each row once too.
      expectStrictlyIncreasing(agent.versions());
      expect(agent.reportErrors).toEqual([]);
    } finally {
      await agent.stop();
    }
  });
});
