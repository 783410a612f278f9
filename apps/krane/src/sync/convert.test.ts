import { create } from "@bufbuild/protobuf";
import { ApplyDeploymentSchema, ApplySentinelSchema } from "@ctrl/proto";
import { describe, expect, it } from "vitest";
import { badName, deploymentWorkload, sentinelWorkload } from "./convert.js";

describe("proto → workload", () => {
  it("maps ApplyDeployment, including the command, port and health path", () => {
    const w = deploymentWorkload(
      create(ApplyDeploymentSchema, {
        k8sName: "d_1",
        deploymentId: "d_1",
        workspaceId: "ws",
        projectId: "p",
        environmentId: "e",
        image: "s3://b/k@sha256:x",
        replicas: 2,
        cpuMillicores: 500n,
        memoryMib: 256n,
        command: ["node", "x.js"],
        port: 8080,
        healthCheckPath: "/hz",
      }),
    );
    expect(w).toMatchObject({
      kind: "deployment",
      name: "d_1",
      id: "d_1",
      replicas: 2,
      cpuMillicores: 500,
      memoryMib: 256,
      command: ["node", "x.js"],
      port: 8080,
      healthCheckPath: "/hz",
      env: {},
    });
    expect(w.envError).toBeUndefined();
  });

  it("refuses to run without variables it cannot decrypt", () => {
    const w = deploymentWorkload(
      create(ApplyDeploymentSchema, { k8sName: "d_1", encryptedEnvironmentVariables: new Uint8Array([1, 2, 3]) }),
    );
    expect(w.envError).toMatch(/^env_decrypt_failed/);
  });

  it("maps ApplySentinel and clamps negative replicas", () => {
    expect(sentinelWorkload(create(ApplySentinelSchema, { k8sName: "sentinel-ab", sentinelId: "se_1", replicas: -1 }))).toMatchObject({
      kind: "sentinel",
      name: "sentinel-ab",
      id: "se_1",
      replicas: 0,
    });
  });

  it.each(["", "../x", "a/b", "-x", "a b", "x".repeat(300)])("rejects the name %j", (name) => {
    expect(badName(name)).toBeDefined();
  });
});
