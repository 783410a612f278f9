// Long because every case shares one stack of three regions of real processes and reads the same helpers.
/**
 * Deployment rollouts across three regions with real parts (issue 13): real MariaDB, restate-server,
 * s3rver and ctrl-api, the worker as a real child process (so it can be SIGKILLed), and per region
 * (r1, r2, r3) a real krane agent (process driver, sandboxed) running the environment's real
 * sentinel and the deployed instances, and a real frontline that routes that region only. The app
 * is `examples/flaky`, whose misbehaviour each deployment chooses with its command's flags.
 * Rollouts are observed through each region's own frontline and on the rollout the API returns.
 *
 * Guarantees: `rolling` cuts the regions over one at a time in order (a region not yet cut over
 * still serves the previous deployment); `canary` sends the first region its weight and keeps the
 * rest on the previous deployment, a sticky client keeping its version; `blue_green` serves the new
 * deployment nowhere before every region is ready; a start failure in r2 rolls r1 back
 * (`rolled_back`, `start_failed` of r2 with its exit code) or, with `pause`, parks it `blocked`
 * until a fix (an environment variable the app needs) and a resume take it to `stable`; a cancel
 * keeps the regions already cut over (until an explicit rollback) and an emergency rollback wins;
 * a rollout after a rollback (the project pinned) never stops the pinned deployment;
 * an analysis breach (half the requests answering 500) rolls back within one analysis interval of
 * crossing the limit while a healthy version passes; a SIGKILLed worker and a restarted
 * restate-server mid-rollout resume without replaying a finished region, each region cut over once.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { stackTransport, startTestStack, type TestStack } from "@ctrl/ctrl-api/testing";
import { pushArtifact } from "@ctrl/krane/testing";
import { DeploymentService, DeploymentStatus, EnvironmentService, type DeploymentRollout } from "@ctrl/proto";
import { packSentinelArtifact } from "@ctrl/sentinel/pack";
import { startWorkerProcess, waitFor, type WorkerProcess } from "@ctrl/testing";
import { parseRegionKeys, Vault, vaultContext } from "@ctrl/vault";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repo, startRegions, type Regions } from "../src/index.js";

const regions = ["r1", "r2", "r3"];
/** ctrl-api's storage key for environment variables and each region's agent key (the "fix" of the pause case is a variable). */
const vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
const agentKeys = Object.fromEntries(regions.map((r) => [r, `k1:${randomBytes(32).toString("base64")}`]));
const analysisIntervalMs = 1_000;
const minRequests = 20;
/** The analysis cases' policy: a 50 % canary step in r1, then r2 and r3, judged every second. */
const analysisPolicy = {
  strategy: "canary",
  parallelism: 2,
  canarySteps: [{ weight: 50, pause: "5s" }],
  analysis: { interval: `${analysisIntervalMs}ms`, window: "2s", maxErrorRate: 0.1, minRequests, maxP99LatencyMs: 0 },
};

let stack: TestStack;
let worker: WorkerProcess;
let workerPorts: { port: number; healthPort: number } | undefined;
let fleet: Regions;
let deployments: Client<typeof DeploymentService>;
let environments: Client<typeof EnvironmentService>;
let flaky: string;
/** The environment hostname (shared by every deployment of production). */
let host: string;

async function startWorker(sentinelImage?: string): Promise<WorkerProcess> {
  const w = await startWorkerProcess({
    entry: join(repo, "apps/ctrl-worker/src/main.ts"),
    name: "rollout-worker",
    ...(workerPorts ?? {}),
    env: {
      DATABASE_URL: stack.database.url,
      RESTATE_ADMIN_URL: stack.restate.adminUrl,
      RESTATE_INGRESS_URL: stack.restate.ingressUrl,
      RESTATE_IDENTITY_KEYS: stack.restate.identityKeys.join(","),
      S3_ENDPOINT: stack.s3.endpoint,
      S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
      BUILD_BACKEND: "none",
      REGIONS: regions.join(","),
      SENTINEL_IMAGE: sentinelImage ?? startedWith.sentinelImage,
      READINESS_TIMEOUT_MS: "60000",
      READINESS_POLL_MS: "100",
      ROLLOUT_CONTROL_POLL_MS: "100",
      // The previous deployment stops soon after each stable rollout, so instances do not pile up.
      ROLLOUT_PREVIOUS_SCALE_DOWN_DELAY_MS: "3000",
      OPENAPI_TIMEOUT_MS: "500",
      // info: startWorker waits for the "registered with restate" line.
      LOG_LEVEL: "info",
      RESTATE_LOGGING: "ERROR",
    },
    onLine: process.env.TEST_WORKER_OUTPUT ? (line) => console.log(`[worker] ${line}`) : undefined,
  });
  workerPorts = { port: w.port, healthPort: w.healthPort };
  try {
    await w.waitHealthy(60_000);
    await w.waitForLine(/registered with restate/);
  } catch (err) {
    await w.kill();
    throw err;
  }
  return w;
}
const startedWith = { sentinelImage: "" };

type PolicyInit = NonNullable<Parameters<Client<typeof EnvironmentService>["setRolloutPolicy"]>[0]["policy"]>;

async function setPolicy(policy: PolicyInit): Promise<void> {
  await environments.setRolloutPolicy({
    projectId: stack.seed.projectId,
    environmentSlug: "production",
    policy: { healthCheckTimeout: "30s", ...policy },
  });
}

async function deploy(command: string[] = []): Promise<string> {
  const { deploymentId } = await deployments.createDeployment({
    projectId: stack.seed.projectId,
    branch: "main",
    environmentSlug: "production",
    source: { case: "dockerImage", value: flaky },
    command: command.length ? ["node", "server.mjs", ...command] : [],
  });
  return deploymentId;
}

async function getDeployment(id: string) {
  const { deployment } = await deployments.getDeployment({ deploymentId: id });
  return deployment!;
}

function describeRollout(r: DeploymentRollout | undefined): string {
  if (!r) return "no rollout";
  const targets = r.targets.map((t) => `${t.region}:${t.state}@${t.weight}`).join(" ");
  const failures = r.failureDetails.map((f) => `${f.target} ${f.kind}: ${f.message}`).join("; ");
  return `${r.state}/${r.controlState} ${targets}${failures ? ` failures: ${failures}` : ""}`;
}

/** Waits until the deployment's rollout satisfies `check`; a mismatch says where the rollout is. */
async function waitRollout(id: string, what: string, check: (r: DeploymentRollout) => boolean, timeoutMs = 90_000) {
  return waitFor(
    `${id}: ${what}`,
    async () => {
      const d = await getDeployment(id);
      if (d.rollout && check(d.rollout)) return d.rollout;
      throw new Error(`deployment ${DeploymentStatus[d.status]} ${d.errorMessage}; rollout ${describeRollout(d.rollout)}`);
    },
    { timeoutMs, intervalMs: 100 },
  );
}

async function waitStatus(id: string, status: DeploymentStatus, timeoutMs = 90_000) {
  return waitFor(
    `deployment ${id} ${DeploymentStatus[status]}`,
    async () => {
      const d = await getDeployment(id);
      if (d.status === status) return d;
      // Thrown (and retried until the deadline) so that a timeout says where the deploy is.
      throw new Error(`${DeploymentStatus[d.status]}: ${d.errorMessage}; rollout ${describeRollout(d.rollout)}`);
    },
    { timeoutMs, intervalMs: 150 },
  );
}

/** Waits until every region's frontline serves `deploymentId` on the environment hostname. */
async function waitEverywhere(deploymentId: string, timeoutMs = 30_000): Promise<void> {
  for (const region of regions) {
    await waitFor(
      `${region} to serve ${deploymentId}`,
      async () => {
        const a = await fleet.through(region, host);
        return a.status === 200 && a.deploymentId === deploymentId;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }
}

/** The deployment every region serves now (each case's previous deployment), read through r1's frontline. */
async function servingEverywhere(): Promise<string> {
  const { deploymentId } = await fleet.through("r1", host);
  if (!deploymentId) throw new Error("r1 serves nothing");
  await waitEverywhere(deploymentId);
  return deploymentId;
}

/** One observation round: what each region's frontline answered, in region order. */
type Round = Array<{ status: number; deploymentId?: string; region?: string }>;

/** Polls the three frontlines round after round (one request each per round) until stopped. */
function observe(): { rounds: Round[]; stop(): Promise<Round[]> } {
  const rounds: Round[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      rounds.push(await Promise.all(regions.map((r) => fleet.through(r, host))));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    rounds,
    async stop() {
      stopped = true;
      await loop;
      return rounds;
    },
  };
}

/** How many leading regions serve `next` in a round where the rest serve `previous`; -1 for any other shape. */
function cutOverPrefix(round: Round, previous: string, next: string): number {
  const ids = round.map((a) => (a.status === 200 ? a.deploymentId : `${a.status}`));
  const k = ids.filter((id) => id === next).length;
  return ids.every((id, i) => (i < k ? id === next : id === previous)) ? k : -1;
}

/** The splits' weights per region over time, as the workflow wrote them (sampled every 20 ms). */
function trackSplits(canaryId: string) {
  const seen: Record<string, number[]> = Object.fromEntries(regions.map((r) => [r, [0]]));
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const rows = await stack.database.db
        .selectFrom("region_traffic_splits")
        .select(["region", "canary_weight"])
        .where("environment_id", "=", stack.seed.environments.production)
        .where("canary_deployment_id", "=", canaryId)
        .execute();
      for (const region of regions) {
        const weight = Number(rows.find((r) => r.region === region)?.canary_weight ?? 0);
        const list = seen[region]!;
        if (list[list.length - 1] !== weight) list.push(weight);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

/** Times the agent of `region` applied `deploymentId` from the watch stream (one per topology commit). */
function appliesOf(region: string, deploymentId: string): number {
  return fleet.byName
    .get(region)!
    .agent.lines.filter((l) => l.msg === "apply deployment" && l.deploymentId === deploymentId && l.source === "watch").length;
}

beforeAll(async () => {
  // Quick Restate retries after the worker comes back from a SIGKILL.
  stack = await startTestStack({ worker: false, restateEnv: { RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL: "500ms" } });
  const [sentinelImage, flakyImage] = await Promise.all([
    packSentinelArtifact(stack.storage),
    pushArtifact(stack.storage, join(repo, "examples/flaky"), "flaky"),
  ]);
  startedWith.sentinelImage = sentinelImage;
  flaky = flakyImage;
  await stack.database.db
    .updateTable("environments")
    .set({ regions: JSON.stringify(regions) })
    .where("id", "=", stack.seed.environments.production)
    .execute();
  // What ctrl-api's main.ts builds from VAULT_MASTER_KEYS and VAULT_REGION_KEYS.
  stack.deps.vault = vault;
  stack.deps.regionVaults = parseRegionKeys(regions.map((r) => `${r}=${agentKeys[r]}`).join(";"));
  worker = await startWorker();
  fleet = await startRegions(stack, regions, {
    portBase: 41_000 + (process.pid % 60) * 120,
    agentEnv: (region) => ({ KRANE_MAX_RESTARTS: "2", KRANE_VAULT_MASTER_KEYS: agentKeys[region]! }),
  });
  deployments = createClient(DeploymentService, stackTransport(stack));
  environments = createClient(EnvironmentService, stackTransport(stack));
  // The first deployment: no previous one, so every region at once.
  const firstId = await deploy();
  const first = await waitStatus(firstId, DeploymentStatus.READY);
  host = first.hostnames.find((h) => h.includes("-production-"))!;
  expect(host).toBeDefined();
  await waitEverywhere(firstId);
  // Every region's own instance answers through its own frontline.
  for (const region of regions) expect((await fleet.through(region, host)).region).toBe(region);
}, 240_000);

afterAll(async () => {
  await fleet?.close();
  await worker?.stop(3_000);
  await stack?.close();
}, 60_000);

describe("deployment rollouts across three regions of real processes", () => {
  it("rolling, parallelism 1: the regions cut over one at a time, in order, each seen through its own frontline", async () => {
    await setPolicy({ strategy: "rolling", parallelism: 1, delayBetweenBatches: "1s" });
    const previous = await servingEverywhere();
    const watch = observe();
    const id = await deploy();
    await waitStatus(id, DeploymentStatus.READY);
    await waitEverywhere(id);
    const rounds = await watch.stop();
    const prefixes = rounds.map((r) => cutOverPrefix(r, previous, id));
    // Every round is "the first k regions on the new deployment, the rest on the previous one"…
    expect(rounds.filter((_, i) => prefixes[i] === -1).slice(0, 3)).toEqual([]);
    // …k never goes down, and each intermediate state was seen: r1 alone, then r1 and r2.
    for (let i = 1; i < prefixes.length; i++) expect(prefixes[i]).toBeGreaterThanOrEqual(prefixes[i - 1]!);
    expect(new Set(prefixes)).toEqual(new Set([0, 1, 2, 3]));
    const rollout = (await getDeployment(id)).rollout!;
    expect(rollout).toMatchObject({ strategy: "rolling", state: "stable", previousDeploymentId: previous });
    const cutOver = rollout.targets.map((t) => Number(t.cutOverAt));
    expect(cutOver[0]).toBeLessThan(cutOver[1]!);
    expect(cutOver[1]).toBeLessThan(cutOver[2]!);
  }, 180_000);

  it("canary: the first region serves its weight of new clients (±5 % over 1,000 requests), a sticky client keeps its version, the others stay on the previous", async () => {
    await setPolicy({ strategy: "canary", parallelism: 2, canarySteps: [{ weight: 20, pause: "12s" }] });
    const previous = await servingEverywhere();
    const id = await deploy();
    await waitRollout(id, "r1 at 20 %", (r) => r.targets[0]?.weight === 20);
    const counts: Record<string, number> = {};
    let sticky: { cookie: string; deploymentId: string } | undefined;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = 0; i < 100; i++) {
          const a = await fleet.through("r1", host);
          counts[`${a.status} ${a.deploymentId}`] = (counts[`${a.status} ${a.deploymentId}`] ?? 0) + 1;
          if (!sticky && a.setCookie && a.deploymentId === id)
            sticky = { cookie: a.setCookie.split(";")[0]!, deploymentId: a.deploymentId };
        }
      }),
    );
    const others = await Promise.all(["r2", "r3"].flatMap((r) => Array.from({ length: 10 }, () => fleet.through(r, host))));
    // Still in the canary step, so every answer above was given at 20 %.
    expect((await getDeployment(id)).rollout?.targets[0]?.weight).toBe(20);
    const onNew = counts[`200 ${id}`] ?? 0;
    expect(onNew + (counts[`200 ${previous}`] ?? 0), JSON.stringify(counts)).toBe(1_000);
    expect(Math.abs(onNew / 1_000 - 0.2), `${onNew} of 1000 on the canary`).toBeLessThanOrEqual(0.05);
    expect(others.map((a) => a.deploymentId)).toEqual(others.map(() => previous));
    // A client pinned to the canary by its cookie stays there (a new client lands there 1 time in 5).
    expect(sticky).toBeDefined();
    for (let i = 0; i < 20; i++) expect((await fleet.through("r1", host, { cookie: sticky!.cookie })).deploymentId).toBe(id);

    await waitStatus(id, DeploymentStatus.READY);
    await waitEverywhere(id);
    const rollout = (await getDeployment(id)).rollout!;
    expect(rollout).toMatchObject({ strategy: "canary", state: "stable" });
    // The canary region first, then r2 and r3 together (parallelism 2).
    const [r1, r2, r3] = rollout.targets.map((t) => Number(t.cutOverAt));
    expect(r1).toBeLessThan(r2!);
    expect(r2).toBe(r3);
  }, 180_000);

  it("blue_green: no region serves the new deployment before every region is ready (r3 starts 3 s late), then all switch", async () => {
    await setPolicy({ strategy: "blue_green" });
    const previous = await servingEverywhere();
    const rounds: Array<{ round: Round; readyRegions: string[] }> = [];
    let stopped = false;
    let id = "";
    const loop = (async () => {
      while (!stopped) {
        const round = await Promise.all(regions.map((r) => fleet.through(r, host)));
        // Read after the requests: a region serving the new deployment must already have shown every region ready.
        const rows = id
          ? await stack.database.db
              .selectFrom("instances")
              .select("region")
              .where("deployment_id", "=", id)
              .where("status", "=", "running")
              .execute()
          : [];
        rounds.push({ round, readyRegions: [...new Set(rows.map((r) => r.region))].sort() });
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    id = await deploy(["--delay-start=3000", "--regions=r3"]);
    const canarySplits = trackSplits(id);
    await waitStatus(id, DeploymentStatus.READY);
    await waitEverywhere(id);
    stopped = true;
    await loop;
    const weights = await canarySplits.stop();
    const early = rounds.filter((o) => o.round.some((a) => a.deploymentId === id) && o.readyRegions.length < 3);
    expect(early.slice(0, 3)).toEqual([]);
    // Before the switch every region served the previous deployment, and r1/r2 were ready well before r3.
    expect(rounds.some((o) => o.readyRegions.length === 2 && o.round.every((a) => a.deploymentId === previous))).toBe(true);
    // One switch for all: no per-region split was ever written.
    expect(weights).toEqual({ r1: [0], r2: [0], r3: [0] });
    expect((await getDeployment(id)).rollout).toMatchObject({ strategy: "blue_green", state: "stable" });
  }, 180_000);

  it("a start failure in r2 with failure_action=rollback: r1 goes back, rolled_back, start_failed of r2 with its exit code", async () => {
    await setPolicy({ strategy: "rolling", parallelism: 1, failureAction: "rollback" });
    const previous = await servingEverywhere();
    const watch = observe();
    const id = await deploy(["--exit=3", "--regions=r2"]);
    const failed = await waitStatus(id, DeploymentStatus.FAILED);
    await waitEverywhere(previous);
    const rounds = await watch.stop();
    expect(failed.errorMessage).toMatch(/exit code 3/);
    // r1 served the new deployment for a while; r2 and r3 never did.
    expect(rounds.some((r) => r[0]?.deploymentId === id)).toBe(true);
    expect(rounds.filter((r) => r[1]?.deploymentId === id || r[2]?.deploymentId === id).slice(0, 3)).toEqual([]);
    const rollout = (await getDeployment(id)).rollout!;
    expect(rollout.state).toBe("rolled_back");
    expect(rollout.failureDetails).toHaveLength(1);
    expect(rollout.failureDetails[0]).toMatchObject({ target: "r2", kind: "start_failed", observed: { exit_code: 3 } });
    expect(rollout.failureDetails[0]?.message).toMatch(/exit code 3/);
    expect(rollout.targets.map((t) => [t.region, t.state])).toEqual([
      ["r1", "rolled_back"],
      ["r2", "failed"],
      ["r3", "pending"],
    ]);
    expect(rollout.failedTargets).toEqual(["r2"]);
  }, 180_000);

  it("the same start failure with failure_action=pause: blocked with r1 on the new deployment, then a fix and a resume, then stable", async () => {
    await setPolicy({ strategy: "rolling", parallelism: 1, failureAction: "pause" });
    const previous = await servingEverywhere();
    const id = await deploy(["--exit=3", "--regions=r2", "--unless-env=FLAKY_FIXED"]);
    const blocked = await waitRollout(id, "blocked", (r) => r.state === "blocked");
    expect(blocked.failureDetails).toEqual([expect.objectContaining({ target: "r2", kind: "start_failed", observed: { exit_code: 3 } })]);
    expect(blocked.targets.map((t) => [t.region, t.state])).toEqual([
      ["r1", "cut_over"],
      ["r2", "failed"],
      ["r3", "pending"],
    ]);
    // Parked, not ended: the deploy is still in progress and each region keeps serving what it served.
    expect((await getDeployment(id)).status).toBe(DeploymentStatus.DEPLOYING);
    for (const [region, expected] of [
      ["r1", id],
      ["r2", previous],
      ["r3", previous],
    ] as const) {
      for (let i = 0; i < 5; i++) expect((await fleet.through(region, host)).deploymentId, region).toBe(expected);
    }
    // The fix: the variable the app was missing. A deployment cannot change in place and its variables
    // are the snapshot taken when it was created (a later environment change reaches the next
    // deployment only), so the test writes the variable into this deployment's snapshot — standing in
    // for whatever outside the app gets repaired. The resume restarts r2's instance with it.
    await stack.database.db
      .insertInto("deployment_variables")
      .values({
        deployment_id: id,
        key: "FLAKY_FIXED",
        workspace_id: stack.seed.workspaceId,
        environment_id: stack.seed.environments.production,
        encrypted_value: vault.encrypt("1", vaultContext.environmentVariable(stack.seed.environments.production, "FLAKY_FIXED")),
        created_at: Date.now(),
      })
      .execute();
    await deployments.resumeRollout({ deploymentId: id });
    await waitStatus(id, DeploymentStatus.READY);
    await waitEverywhere(id);
    const rollout = (await getDeployment(id)).rollout!;
    expect(rollout.state).toBe("stable");
    expect(rollout.targets.map((t) => t.state)).toEqual(["cut_over", "cut_over", "cut_over"]);
  }, 180_000);

  it("cancel mid-rollout: r1 stays on the new deployment (degraded), the rest never get it; an explicit rollback then restores r1", async () => {
    await setPolicy({ strategy: "rolling", parallelism: 1, delayBetweenBatches: "3s" });
    const previous = await servingEverywhere();
    const watch = observe();
    const id = await deploy();
    await waitRollout(id, "r1 cut over", (r) => r.targets[0]?.state === "cut_over");
    await waitFor("r1's frontline to serve the new deployment", async () => (await fleet.through("r1", host)).deploymentId === id, {
      timeoutMs: 5_000,
      intervalMs: 20,
    });
    await deployments.cancelRollout({ deploymentId: id });
    const cancelled = await waitStatus(id, DeploymentStatus.CANCELLED);
    expect(cancelled.rollout?.state).toBe("degraded");
    expect(cancelled.rollout?.targets.map((t) => [t.region, t.state])).toEqual([
      ["r1", "cut_over"],
      ["r2", "pending"],
      ["r3", "pending"],
    ]);
    for (const [region, expected] of [
      ["r1", id],
      ["r2", previous],
      ["r3", previous],
    ] as const) {
      for (let i = 0; i < 5; i++) expect((await fleet.through(region, host)).deploymentId, region).toBe(expected);
    }
    await deployments.rollback({ sourceDeploymentId: id, targetDeploymentId: previous });
    await waitEverywhere(previous);
    const rounds = await watch.stop();
    expect(rounds.filter((r) => r[1]?.deploymentId === id || r[2]?.deploymentId === id).slice(0, 3)).toEqual([]);
  }, 180_000);

  it("an emergency rollback mid-rollout wins: every region back on the previous deployment, rolled_back, no further region cut over", async () => {
    await setPolicy({ strategy: "rolling", parallelism: 1, delayBetweenBatches: "3s" });
    const previous = await servingEverywhere();
    const watch = observe();
    const id = await deploy();
    await waitRollout(id, "r1 cut over", (r) => r.targets[0]?.state === "cut_over");
    await waitFor("r1's frontline to serve the new deployment", async () => (await fleet.through("r1", host)).deploymentId === id, {
      timeoutMs: 5_000,
      intervalMs: 20,
    });
    await deployments.rollback({ sourceDeploymentId: id, targetDeploymentId: previous });
    await waitEverywhere(previous);
    // The workflow notices at its next step and ends without touching routes.
    const ended = await waitFor(
      `${id} to end`,
      async () => {
        const d = await getDeployment(id);
        return d.status === DeploymentStatus.DEPLOYING ? undefined : d;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await waitEverywhere(previous);
    const rounds = await watch.stop();
    expect(ended.status).toBe(DeploymentStatus.FAILED);
    expect(ended.rollout?.state).toBe("rolled_back");
    expect(ended.rollout?.targets[0]?.state).toBe("rolled_back");
    expect(rounds.some((r) => r[0]?.deploymentId === id)).toBe(true);
    expect(rounds.filter((r) => r[1]?.deploymentId === id || r[2]?.deploymentId === id).slice(0, 3)).toEqual([]);
  }, 180_000);

  it("after an explicit rollback (the pin), a rollout leaves the pinned deployment serving and running; promote moves everything", async () => {
    await setPolicy({ strategy: "rolling", parallelism: 1 });
    const pinned = await servingEverywhere();
    const id = await deploy();
    await waitStatus(id, DeploymentStatus.READY);
    // The switch left the environment hostname on the pinned deployment, and the splits are gone:
    // once each region's frontline has read that (one route-table poll), every region serves it, also
    // after the previous deployment's scale-down delay (3 s) has passed (an absence, so watched for a
    // bounded time).
    await waitEverywhere(pinned, 10_000);
    const until = Date.now() + 5_000;
    while (Date.now() < until) {
      for (const region of regions) {
        const a = await fleet.through(region, host);
        expect([a.status, a.deploymentId], region).toEqual([200, pinned]);
      }
    }
    const topology = await stack.database.db
      .selectFrom("deployment_topology")
      .select(["region", "desired_status"])
      .where("deployment_id", "=", pinned)
      .orderBy("region")
      .execute();
    expect(topology.map((t) => t.desired_status)).toEqual(["running", "running", "running"]);
    await deployments.promote({ targetDeploymentId: id });
    await waitEverywhere(id);
  }, 180_000);

  it("analysis: half the requests answering 500 is rolled back within one analysis interval of crossing the limit", async () => {
    await setPolicy(analysisPolicy);
    const previous = await servingEverywhere();
    const id = await deploy(["--error-every=2"]);
    await waitRollout(id, "r1 at 50 %", (r) => r.targets[0]?.weight === 50);
    // New clients through r1's frontline (no cookie): half reach the canary, and half of those fail.
    const answers: Array<{ at: number; status: number; deploymentId?: string }> = [];
    let stop = false;
    const clients = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const a = await fleet.through("r1", host);
        answers.push({ at: Date.now(), status: a.status, ...(a.deploymentId ? { deploymentId: a.deploymentId } : {}) });
      }
    });
    try {
      await waitStatus(id, DeploymentStatus.FAILED, 30_000);
      await waitFor("r1 back on the previous deployment", async () => (await fleet.through("r1", host)).deploymentId === previous, {
        timeoutMs: 5_000,
        intervalMs: 20,
      });
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    const backAt = Date.now();
    const rollout = (await getDeployment(id)).rollout!;
    expect(rollout.state).toBe("rolled_back");
    expect(rollout.failureDetails[0]).toMatchObject({ target: "r1", kind: "analysis_failed" });
    expect(rollout.failureDetails[0]?.observed.error_rate).toBeGreaterThan(0.3);
    expect(rollout.failureDetails[0]?.observed.max_error_rate).toBe(0.1);
    // The limit was crossed once the canary had answered `minRequests` requests (a 500 every other one).
    const onCanary = answers.filter((a) => a.deploymentId === id || a.status === 500);
    expect(onCanary.filter((a) => a.status === 500).length).toBeGreaterThan(minRequests / 4);
    const crossedAt = onCanary[minRequests - 1]!.at;
    // The last canary answer came within one interval (plus the frontline's 100 ms route poll and a
    // scrape's latency on a loaded machine) of crossing.
    const lastCanary = onCanary[onCanary.length - 1]!.at;
    expect(lastCanary - crossedAt).toBeLessThanOrEqual(analysisIntervalMs + 1_000);
    expect(backAt).toBeGreaterThanOrEqual(lastCanary);
    await waitEverywhere(previous);
  }, 180_000);

  it("analysis: a healthy version passes every step and goes stable", async () => {
    await setPolicy(analysisPolicy);
    const id = await deploy();
    await waitRollout(id, "r1 at 50 %", (r) => r.targets[0]?.weight === 50);
    let stop = false;
    const statuses: number[] = [];
    // Traffic in every region, so each batch's analysis has enough requests to judge (not inconclusive).
    const clients = regions.flatMap((region) =>
      Array.from({ length: 2 }, async () => {
        while (!stop) statuses.push((await fleet.through(region, host)).status);
      }),
    );
    try {
      await waitStatus(id, DeploymentStatus.READY, 90_000);
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    const rollout = (await getDeployment(id)).rollout!;
    expect(rollout.state).toBe("stable");
    expect(rollout.lastAnalysis).toMatchObject({ verdict: "pass", errorRate: 0 });
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await waitEverywhere(id);
  }, 180_000);

  for (const crash of ["a SIGKILL of the worker", "a restart of restate-server"] as const) {
    it(`${crash} mid-rollout: it resumes, r1 is not replayed, each region cut over once`, async () => {
      await setPolicy({ strategy: "rolling", parallelism: 1, delayBetweenBatches: "2s" });
      const previous = await servingEverywhere();
      const watch = observe();
      const id = await deploy();
      const splits = trackSplits(id);
      const before = await waitRollout(id, "r1 cut over", (r) => r.targets[0]?.state === "cut_over");
      if (crash === "a SIGKILL of the worker") {
        await worker.kill();
        worker = await startWorker();
      } else {
        await stack.restate.restart();
      }
      await waitStatus(id, DeploymentStatus.READY, 120_000);
      await waitEverywhere(id);
      const rounds = await watch.stop();
      const weights = await splits.stop();
      const rollout = (await getDeployment(id)).rollout!;
      expect(rollout.state).toBe("stable");
      // r1 finished before the crash and kept its cutover; each region went 0 → 100 once (the splits
      // are deleted after the global switch) and its agent got the topology once.
      expect(rollout.targets[0]?.cutOverAt).toBe(before.targets[0]?.cutOverAt);
      for (const region of regions) {
        expect(
          weights[region]?.filter((w) => w === 100),
          `${region}: ${weights[region]?.join(" → ")}`,
        ).toHaveLength(1);
        expect(appliesOf(region, id), region).toBe(1);
      }
      const prefixes = rounds.map((r) => cutOverPrefix(r, previous, id));
      expect(rounds.filter((_, i) => prefixes[i] === -1).slice(0, 3)).toEqual([]);
      for (let i = 1; i < prefixes.length; i++) expect(prefixes[i]).toBeGreaterThanOrEqual(prefixes[i - 1]!);
    }, 180_000);
  }
});
