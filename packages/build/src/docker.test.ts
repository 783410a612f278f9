import { describe, expect, it } from "vitest";
import { dockerBuildCommand, dockerImageTag, normalizeDockerfilePath, parseDockerMetadata } from "./docker.js";
import { BuildError } from "./errors.js";

const input = { contextDir: "/work/b1/app", projectId: "proj_AbC", buildId: "build_XyZ", metadataFile: "/work/b1/meta.json" };

/** The value that follows `flag` in argv (buildx takes `--flag value`), or undefined. */
function flagValue(argv: string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at < 0 ? undefined : argv[at + 1];
}

// These check what each build must get (which Dockerfile, which tag, that it is pushed, where the
// digest lands), not the order of the implementation's argv: reordering flags keeps them green.
describe("dockerBuildCommand", () => {
  it("builds the context's default Dockerfile, tags per build, pushes and writes the metadata file", () => {
    const argv = dockerBuildCommand({ repository: "registry.example.com/ctrl/apps" }, input);
    expect(argv.slice(0, 3)).toEqual(["docker", "buildx", "build"]);
    expect(flagValue(argv, "--file")).toBe("/work/b1/app/Dockerfile");
    expect(flagValue(argv, "--tag")).toBe("registry.example.com/ctrl/apps:proj_AbC-build_XyZ");
    expect(flagValue(argv, "--metadata-file")).toBe(input.metadataFile);
    // plain progress: one log line per build event, which the step log relies on
    expect(flagValue(argv, "--progress")).toBe("plain");
    expect(argv).toContain("--push");
    expect(argv.at(-1)).toBe(input.contextDir);
    expect(argv).not.toContain("--builder");
    expect(argv).not.toContain("--platform");
  });

  it("passes the builder, platform, binary and a nested Dockerfile path", () => {
    const argv = dockerBuildCommand(
      { repository: "localhost:5000/apps", platform: "linux/amd64", builder: "remote", binary: "/usr/bin/docker" },
      { ...input, dockerfilePath: "./deploy/Dockerfile.prod" },
    );
    expect(argv[0]).toBe("/usr/bin/docker");
    expect(flagValue(argv, "--builder")).toBe("remote");
    expect(flagValue(argv, "--file")).toBe("/work/b1/app/deploy/Dockerfile.prod");
    expect(flagValue(argv, "--platform")).toBe("linux/amd64");
    expect(argv.at(-1)).toBe("/work/b1/app");
  });

  it("treats an empty or blank Dockerfile path as the default", () => {
    expect(normalizeDockerfilePath("")).toBe("Dockerfile");
    expect(normalizeDockerfilePath("  ")).toBe("Dockerfile");
    expect(normalizeDockerfilePath(null)).toBe("Dockerfile");
    expect(normalizeDockerfilePath("a/../Dockerfile.dev")).toBe("Dockerfile.dev");
  });

  it("rejects Dockerfile paths outside the context", () => {
    for (const bad of ["/etc/passwd", "../Dockerfile", "a/../../x", "..", "x\0y"]) {
      expect(() => dockerBuildCommand({ repository: "r/apps" }, { ...input, dockerfilePath: bad }), bad).toThrow(BuildError);
    }
    // toThrow with an object checks the error's own fields, and fails when nothing is thrown.
    expect(() => normalizeDockerfilePath("../secret/Dockerfile")).toThrow(
      expect.objectContaining({ reason: "build_context_invalid", message: expect.stringContaining("../secret/Dockerfile") }),
    );
  });

  it("rejects an invalid repository", () => {
    expect(() => dockerImageTag("Registry.Example.com/Apps", "proj_a", "build_b")).toThrow(/BUILD_DOCKER_REPOSITORY/);
    expect(() => dockerImageTag("r/apps", "proj a", "build_b")).toThrow(/valid image tag/);
  });
});

describe("parseDockerMetadata", () => {
  it("reads the pushed digest and ignores anything else", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    expect(parseDockerMetadata(JSON.stringify({ "containerimage.digest": digest, "image.name": "x" }))).toBe(digest);
    expect(parseDockerMetadata("{}")).toBeUndefined();
    expect(parseDockerMetadata("not json")).toBeUndefined();
    expect(parseDockerMetadata(JSON.stringify({ "containerimage.digest": "sha256:short" }))).toBeUndefined();
  });
});
