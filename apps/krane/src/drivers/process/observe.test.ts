import { describe, expect, it } from "vitest";
import type { DesiredWorkload } from "../../workload.js";
import type { InstanceSupervisor, SupervisorStatus } from "./instance.js";
import { observeWorkload } from "./observe.js";
import { newWorkloadState, specHash } from "./workload-state.js";

/**
 * What the process driver reports for a workload: one instance per desired ordinal, and a failed
 * `<name>-next` when old instances keep serving because the new image cannot run, so a rollout
 * waiting for the new image learns why instead of timing out.
 */
const spec = (image: string, replicas = 2): DesiredWorkload => ({
  kind: "sentinel",
  name: "se-eu",
  id: "se_1",
  workspaceId: "ws_1",
  projectId: "proj_1",
  environmentId: "env_1",
  image,
  replicas,
  cpuMillicores: 250,
  memoryMib: 128,
  command: [],
  healthCheckPath: "",
  port: 0,
  env: {},
});

/** A supervisor as far as observation sees it. */
const instance = (image: string, port: number, status: SupervisorStatus) =>
  ({ address: `127.0.0.1:${port}`, record: { image }, current: () => status }) as unknown as InstanceSupervisor;

describe("observeWorkload", () => {
  it("reports every desired ordinal: its instance, else pending, else the pull failure", () => {
    const state = newWorkloadState(spec("s3://a", 3));
    state.instances.set(0, instance("s3://a", 4000, { phase: "running" }));
    expect(observeWorkload(state, "sentinel", "se-eu").instances.map((i) => [i.name, i.phase, i.address])).toEqual([
      ["se-eu-0", "running", "127.0.0.1:4000"],
      ["se-eu-1", "pending", ""],
      ["se-eu-2", "pending", ""],
    ]);
    state.pull = { permanent: false, reason: "pulling image (attempt 1): timeout" };
    expect(observeWorkload(state, "sentinel", "se-eu").instances[1]).toMatchObject({ phase: "pending", failureReason: state.pull.reason });
    state.pull = { permanent: true, reason: "image_pull_failed: bad digest" };
    expect(observeWorkload(state, "sentinel", "se-eu").instances[2]).toMatchObject({ phase: "failed", failureReason: state.pull.reason });
  });

  it("adds a failed <name>-next while old instances serve and the new image cannot run", () => {
    const state = newWorkloadState(spec("s3://new", 1));
    state.instances.set(0, instance("s3://old", 4000, { phase: "running" }));
    expect(observeWorkload(state, "sentinel", "se-eu").instances).toHaveLength(1);

    state.replaceFailure = { hash: specHash(state.spec), reason: "start_failed: exited with code 1", exitCode: 1 };
    expect(observeWorkload(state, "sentinel", "se-eu").instances[1]).toMatchObject({
      name: "se-eu-next",
      image: "s3://new",
      phase: "failed",
      failureReason: "start_failed: exited with code 1",
      exitCode: 1,
    });
    // A failure of an older spec's replacement is not this spec's.
    state.replaceFailure = { hash: "older", reason: "start_failed" };
    expect(observeWorkload(state, "sentinel", "se-eu").instances).toHaveLength(1);

    state.pull = { permanent: true, reason: "invalid_manifest: no start" };
    expect(observeWorkload(state, "sentinel", "se-eu").instances[1]).toMatchObject({
      name: "se-eu-next",
      failureReason: "invalid_manifest: no start",
    });
  });
});
