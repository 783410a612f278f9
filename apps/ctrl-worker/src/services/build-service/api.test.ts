import { describe, expect, it } from "vitest";
import { workerConfigSchema } from "../../config.js";
import { formatBuildFailure, parseBuildFailure } from "./api.js";
import { buildConfigFromConfig } from "./config.js";

/** The S3 keys have no default (no built-in secret). */
const s3 = { S3_ACCESS_KEY_ID: "S3RVER", S3_SECRET_ACCESS_KEY: "S3RVER" };

describe("build failure messages", () => {
  it("round-trip the step, reason and a multi-line message", () => {
    const failure = {
      step: "build:compile",
      reason: "build_failed" as const,
      message: '"npm run build" exited with code 2; last 2 log lines:\nerror one\nerror two',
    };
    const text = formatBuildFailure(failure);
    expect(text.startsWith("failed_precondition: [build:compile] build_failed: ")).toBe(true);
    expect(parseBuildFailure(text)).toEqual(failure);
  });

  it("return undefined for other errors", () => {
    expect(parseBuildFailure("not_found: deployment d_1 does not exist")).toBeUndefined();
    expect(parseBuildFailure("")).toBeUndefined();
    expect(parseBuildFailure("[build:x] other_reason: y")).toBeUndefined();
  });
});

/** Variables without a default (the worker refuses to start without them). */
const required = { ...s3, RESTATE_IDENTITY_KEYS: "publickeyv1_8eKmjRhYEX5CrucSCpVkgY8URdcidK7Uu1XYUwNnaNss" };

describe("buildConfigFromConfig", () => {
  it("defaults to the local builder with the documented limits", () => {
    const build = buildConfigFromConfig(workerConfigSchema.parse(required), {});
    expect(build).toMatchObject({
      backend: "local",
      timeoutMs: 600_000,
      npmRegistry: "https://registry.npmjs.org/",
      limits: { maxCompressedBytes: 100 * 1024 * 1024, maxFiles: 50_000 },
    });
    expect(build?.docker).toBeUndefined();
  });

  it("is undefined for BUILD_BACKEND=none and carries the docker settings", () => {
    expect(buildConfigFromConfig(workerConfigSchema.parse({ ...required, BUILD_BACKEND: "none" }), {})).toBeUndefined();
    const docker = buildConfigFromConfig(
      workerConfigSchema.parse({
        ...required,
        BUILD_BACKEND: "docker",
        BUILD_DOCKER_REPOSITORY: "localhost:5000/apps",
        BUILD_DOCKER_PLATFORM: "linux/amd64",
        BUILD_TIMEOUT_SECONDS: "30",
      }),
      { NODE_EXTRA_CA_CERTS: "/ca.pem" },
    );
    expect(docker).toMatchObject({
      backend: "docker",
      timeoutMs: 30_000,
      caFile: "/ca.pem",
      docker: { repository: "localhost:5000/apps", platform: "linux/amd64" },
    });
  });

  it("rejects a bad backend or limit", () => {
    expect(workerConfigSchema.safeParse({ ...s3, BUILD_BACKEND: "kaniko" }).success).toBe(false);
    expect(workerConfigSchema.safeParse({ ...s3, BUILD_TIMEOUT_SECONDS: "0" }).success).toBe(false);
  });
});
