import { create } from "@bufbuild/protobuf";
import { DeploymentSchema, DeploymentStatus } from "@ctrl/proto";
import { describe, expect, it } from "vitest";
import { currentEnvironmentDeployment } from "./commands/switch.js";
import { formatDuration, formatStep, hostnameUrl } from "./format.js";
import { formatBytes, renderProgressBar } from "./progress.js";

describe("progress bar", () => {
  it("renders empty, partial, full and zero-size uploads", () => {
    expect(renderProgressBar(0, 2048, 10)).toBe("[>         ]   0%  0 B / 2.0 KiB");
    expect(renderProgressBar(1024, 2048, 10)).toBe("[=====>    ]  50%  1.0 KiB / 2.0 KiB");
    expect(renderProgressBar(2048, 2048, 10)).toBe("[==========] 100%  2.0 KiB / 2.0 KiB");
    expect(renderProgressBar(0, 0, 4)).toBe("[====] 100%  0 B / 0 B");
    expect(renderProgressBar(5000, 100, 4)).toContain("100%");
    expect(formatBytes(3 * 1024 * 1024 + 1)).toBe("3.0 MiB");
  });
});

describe("formatting", () => {
  it("formats steps, durations and URLs", () => {
    expect(
      formatStep({
        step: "build:install",
        status: "completed",
        message: "npm ci succeeded",
        errorMessage: "",
        createdAt: 1000n,
        endedAt: 4100n,
      }),
    ).toBe("✓ build:install  npm ci succeeded (3.1 s)");
    expect(
      formatStep({
        step: "build:compile",
        status: "failed",
        message: "a build command failed",
        errorMessage: "exit 2\nboom",
        createdAt: 1n,
        endedAt: 0n,
      }),
    ).toBe("✗ build:compile  a build command failed\n    exit 2\n    boom");
    expect(formatDuration(125_000)).toBe("2 m 05 s");
    expect(hostnameUrl("app-preview-ws.ctrl.localhost", 8000)).toBe("http://app-preview-ws.ctrl.localhost:8000/");
    expect(hostnameUrl("a.example.com")).toBe("http://a.example.com/");
  });
});

describe("currentEnvironmentDeployment", () => {
  const d = (id: string, env: string, status: DeploymentStatus, hostnames: string[]) =>
    create(DeploymentSchema, { id, environmentId: env, status, hostnames });
  it("picks the ready deployment of the same environment holding the environment domain", () => {
    const target = d("d_old", "env_p", DeploymentStatus.READY, ["app-git-abc1234-ws.ctrl.localhost"]);
    const list = [
      d("d_new_failed", "env_p", DeploymentStatus.FAILED, []),
      d("d_preview", "env_q", DeploymentStatus.READY, ["app-preview-ws.ctrl.localhost"]),
      d("d_branch_only", "env_p", DeploymentStatus.READY, ["app-git-feat-ws.ctrl.localhost"]),
      d("d_live", "env_p", DeploymentStatus.READY, ["app-git-def5678-ws.ctrl.localhost", "app-production-ws.ctrl.localhost"]),
      target,
    ];
    expect(currentEnvironmentDeployment(target, list)?.id).toBe("d_live");
    expect(currentEnvironmentDeployment(target, [target])).toBeUndefined();
  });
});
