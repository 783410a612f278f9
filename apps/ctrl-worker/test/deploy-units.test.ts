import { describe, expect, it } from "vitest";
import { openApiUrl } from "../src/services/deploy-workflow/openapi.js";
import { evaluateReadiness, readinessPollInterval } from "../src/services/deploy-workflow/readiness.js";
import { sentinelIdentity, sentinelReplicas } from "../src/services/deploy-workflow/sentinels.js";
import { resolveRegions } from "../src/services/deploy-workflow/topology.js";

const region = (
  name: string,
  desired: number,
  running: number,
  extra: Partial<{ pending: number; failed: number; desiredStatus: "running" | "stopped" }> = {},
) => ({
  region: name,
  desiredReplicas: desired,
  desiredStatus: extra.desiredStatus ?? ("running" as const),
  running,
  pending: extra.pending ?? 0,
  failed: extra.failed ?? 0,
});

// Guarantee: the readiness wait fails early with a structured reason and never calls a partial rollout ready.
describe("evaluateReadiness", () => {
  it("is ready only when every running region has its replicas running", () => {
    expect(evaluateReadiness({ regions: [region("a", 2, 2), region("b", 1, 1)], failures: [], runningAddress: "x:1" }).state).toBe("ready");
    const partial = evaluateReadiness({ regions: [region("a", 2, 2), region("b", 3, 1)], failures: [], runningAddress: "x:1" });
    expect(partial).toEqual({ state: "waiting", message: "running: a 2/2, b 1/3" });
  });

  it("waits while no topology exists and ignores stopped regions", () => {
    expect(evaluateReadiness({ regions: [], failures: [], runningAddress: null }).state).toBe("waiting");
    expect(
      evaluateReadiness({ regions: [region("a", 1, 0, { desiredStatus: "stopped" })], failures: [], runningAddress: null }).state,
    ).toBe("waiting");
    expect(
      evaluateReadiness({
        regions: [region("a", 1, 1), region("b", 1, 0, { desiredStatus: "stopped" })],
        failures: [],
        runningAddress: null,
      }).state,
    ).toBe("ready");
  });

  it("fails with start_failed and the exit code, or image_pull_failed from the agent's reason", () => {
    const base = { regions: [region("a", 1, 0, { failed: 1 })], runningAddress: null };
    expect(evaluateReadiness({ ...base, failures: [{ region: "a", k8sName: "i-1", exitCode: 1, failureReason: null }] })).toEqual({
      state: "failed",
      reason: "start_failed",
      message: "instance i-1 in region a failed with exit code 1",
    });
    for (const why of ["ErrImagePull", "ImagePullBackOff", "failed to pull image: manifest unknown", "pull access denied"]) {
      expect(evaluateReadiness({ ...base, failures: [{ region: "a", k8sName: "i-1", exitCode: null, failureReason: why }] })).toMatchObject(
        { reason: "image_pull_failed" },
      );
    }
    expect(
      evaluateReadiness({ ...base, failures: [{ region: "a", k8sName: "i-1", exitCode: 137, failureReason: "OOMKilled" }] }),
    ).toMatchObject({
      reason: "start_failed",
      message: "instance i-1 in region a failed with exit code 137: OOMKilled",
    });
  });
});

describe("resolveRegions", () => {
  it("uses the configured regions unless the environment overrides them", () => {
    expect(resolveRegions(null, ["local"])).toEqual({ regions: ["local"] });
    expect(resolveRegions("", ["local"])).toEqual({ regions: ["local"] });
    expect(resolveRegions('["eu-1","us-1","eu-1"]', ["local"])).toEqual({ regions: ["eu-1", "us-1"] });
  });
  it.each(["not json", "{}", "[]", '[""]', '["EU 1"]', "[1]"])("rejects a malformed override %j", (value) => {
    expect(resolveRegions(value, ["local"])).toHaveProperty("error");
  });
});

describe("sentinels", () => {
  it("derives a stable id and DNS-safe name per environment and region", () => {
    const one = sentinelIdentity("env_1", "eu-1");
    expect(sentinelIdentity("env_1", "eu-1")).toEqual(one);
    expect(sentinelIdentity("env_1", "us-1").sentinelId).not.toBe(one.sentinelId);
    expect(one.sentinelId).toMatch(/^se_[1-9A-HJ-NP-Za-km-z]+$/);
    expect(one.k8sName).toMatch(/^sentinel-[0-9a-f]{16}$/);
  });
  it("runs 3 replicas in production and 1 elsewhere", () => {
    expect(sentinelReplicas("production")).toBe(3);
    expect(sentinelReplicas("preview")).toBe(1);
  });
});

describe("openApiUrl", () => {
  it("accepts host:port or a URL", () => {
    expect(openApiUrl("10.0.0.1:8080", "/openapi.json")).toBe("http://10.0.0.1:8080/openapi.json");
    expect(openApiUrl("https://svc.internal/", "/spec")).toBe("https://svc.internal/spec");
  });
});

describe("readinessPollInterval", () => {
  it("starts at 100 ms and backs off up to the configured maximum", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((r) => readinessPollInterval(r, 1_000))).toEqual([100, 150, 225, 338, 506, 759, 1_000]);
    expect(readinessPollInterval(50, 1_000)).toBe(1_000);
    expect(readinessPollInterval(1, 50)).toBe(50);
  });
});
