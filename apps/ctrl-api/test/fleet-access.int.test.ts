/**
 * Two fleet guarantees of issue 12 against the real stack (MariaDB, restate-server, ctrl-api and
 * the worker in-process, one acknowledging fake agent per region):
 *
 * - `SentinelService.deploy` of the image a sentinel already runs healthy returns at once: ok,
 *   `unchanged`, no new version committed (the agents see nothing), no awakeable armed — it
 *   answers even while no agent is connected to report anything.
 * - The fleet API is for operators: a root key with the explicit permission `fleet.*.rollout`
 *   may call it (and is recorded as the rollout's creator); a workspace root key without it —
 *   even with `project.*.*` — gets `permission_denied`.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { createRootKey, findSentinel, type Db } from "@ctrl/db";
import { registerDeployment, waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SentinelDeployResult } from "@ctrl/ctrl-worker/api";
import { startSentinelDeployProbe } from "@ctrl/ctrl-worker/sentinel-deploy-probe";
import { fleetClient, insertSentinelFleet, operatorAuth, startFakeSentinelAgents } from "./fake-sentinel-agent.js";
import { startTestStack, type TestStack } from "./harness.js";

const regions = ["r1", "r2"];
const images = { v1: "registry.test/ctrl/sentinel:v1", v2: "registry.test/ctrl/sentinel:v2" };

let stack: TestStack;
let probe: Awaited<ReturnType<typeof startSentinelDeployProbe>>;
let agents: { stop(): Promise<void> } | undefined;
let sentinelIds: string[];

/** `SentinelService.deploy` through the probe (the service is ingress-private). */
async function deploy(sentinelId: string, image: string, timeoutMs: number): Promise<SentinelDeployResult> {
  const res = await fetch(`${stack.restate.ingressUrl}/FleetBenchProbe/deploy`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sentinelId, image }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as SentinelDeployResult;
}

async function maxVersion(db: Db, region: string): Promise<number> {
  const row = await db.selectFrom("region_versions").select("version").where("region", "=", region).executeTakeFirst();
  return Number(row?.version ?? 0);
}

async function expectCode(promise: Promise<unknown>, code: Code, message?: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the call should have failed").toBeInstanceOf(ConnectError);
  expect(Code[(err as ConnectError).code]).toBe(Code[code]);
  if (message) expect((err as ConnectError).rawMessage).toMatch(message);
}

beforeAll(async () => {
  stack = await startTestStack();
  probe = await startSentinelDeployProbe();
  await registerDeployment(stack.restate.adminUrl, probe.url);
  sentinelIds = await insertSentinelFleet(stack.database.db, stack.seed, 4, regions, images.v1, "se_access");
  agents = startFakeSentinelAgents(stack, regions);
  // The agents report every sentinel healthy on v1.
  await waitFor(
    "every sentinel healthy on v1",
    async () => {
      for (const id of sentinelIds) {
        const s = await findSentinel(stack.database.db, id);
        if (s?.health !== "healthy" || s.running_image !== images.v1) return false;
      }
      return true;
    },
    { timeoutMs: 30_000 },
  );
}, 120_000);

afterAll(async () => {
  await agents?.stop();
  await probe?.close();
  await stack?.close();
}, 60_000);

describe("SentinelService.deploy of the image it already runs", () => {
  it("returns ok and unchanged at once: no version, no awakeable, no agent needed", async () => {
    const id = sentinelIds[0]!;
    const before = (await findSentinel(stack.database.db, id))!;
    const versionBefore = await maxVersion(stack.database.db, before.region);
    // No agent is connected: a deploy that waited for a report would wait for SENTINEL_DEPLOY_TIMEOUT_MS (120 s).
    await agents!.stop();
    agents = undefined;
    const result = await deploy(id, images.v1, 20_000);
    expect(result).toEqual({ ok: true, image: images.v1, previousImage: images.v1, unchanged: true });
    const after = (await findSentinel(stack.database.db, id))!;
    expect(Number(after.version)).toBe(Number(before.version));
    expect(await maxVersion(stack.database.db, before.region)).toBe(versionBefore);
    expect(after.deploy_awakeable_id).toBeNull();
    expect(after.deploy_status).toBe(before.deploy_status);
    expect(after.image).toBe(images.v1);

    // The contrast: a new image commits a new version and waits for the agent's report.
    agents = startFakeSentinelAgents(stack, regions);
    const changed = await deploy(id, images.v2, 60_000);
    expect(changed).toEqual({ ok: true, image: images.v2, previousImage: images.v1, unchanged: false });
    expect(Number((await findSentinel(stack.database.db, id))!.version)).toBeGreaterThan(Number(before.version));
    expect(await deploy(id, images.v2, 20_000)).toMatchObject({ ok: true, unchanged: true });
  }, 120_000);
});

describe("who may call the fleet API", () => {
  it("a root key with fleet.*.rollout may; a workspace root key without it gets permission_denied", async () => {
    const fleet = fleetClient(stack);
    const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
    const operatorKey = await createRootKey(stack.database.db, {
      workspaceId: stack.seed.workspaceId,
      name: "fleet operator",
      permissions: ["fleet.*.rollout"],
      now: Date.now(),
    });
    const workspaceKey = await createRootKey(stack.database.db, {
      workspaceId: stack.seed.workspaceId,
      name: "workspace",
      permissions: ["project.*.*"],
      now: Date.now(),
    });

    const started = (await fleet.rollout({ image: images.v2, wavePercentages: [100] }, bearer(operatorKey.key))).rollout!;
    expect(started.createdBy).toMatch(/^root_key:/);
    const done = await waitFor(
      "the root key's rollout to complete",
      async () => {
        const r = (await fleet.getRollout({ rolloutId: started.id }, bearer(operatorKey.key))).rollout!;
        return r.state === "completed" ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(done.succeeded).toBe(sentinelIds.length);
    expect((await fleet.listRollouts({}, bearer(operatorKey.key))).rollouts.map((r) => r.id)).toContain(started.id);
    // The operator credential sees the same rollout.
    expect((await fleet.getRollout({ rolloutId: started.id }, operatorAuth(stack))).rollout!.id).toBe(started.id);

    for (const key of [workspaceKey.key, stack.seed.rootKey]) {
      await expectCode(fleet.rollout({ image: images.v1 }, bearer(key)), Code.PermissionDenied, /fleet\.\*\.rollout/);
      await expectCode(fleet.getRollout({}, bearer(key)), Code.PermissionDenied);
      await expectCode(fleet.listRollouts({}, bearer(key)), Code.PermissionDenied);
      await expectCode(fleet.pause({}, bearer(key)), Code.PermissionDenied);
      await expectCode(fleet.rollbackAll({}, bearer(key)), Code.PermissionDenied);
    }
  }, 120_000);
});
