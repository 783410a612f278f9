import { describe, expect, it } from "vitest";
import { dockerBuildCommand, dockerImageTag, normalizeDockerfilePath, parseDockerMetadata } from "./docker.js";
import { BuildError } from "./errors.js";

const input = { contextDir: "/work/b1/app", projectId: "proj_AbC", buildId: "build_XyZ", metadataFile: "/work/b1/meta.json" };

describe("dockerBuildCommand", () => {
  it("builds the default Dockerfile, tags per build, pushes, plain progress, metadata file", () => {
    expect(dockerBuildCommand({ repository: "registry.example.com/ctrl/apps" }, input)).toEqual([
      "docker", "buildx", "build",
      "--file", "/work/b1/app/Dockerfile",
      "--tag", "registry.example.com/ctrl/apps:proj_AbC-build_XyZ",
      "--progress", "plain", "--metadata-file", "/work/b1/meta.json", "--push", "/work/b1/app",
    ]);
  });

  it("passes the builder, platform, binary and a nested Dockerfile path", () => {
    const argv = dockerBuildCommand({ repository: "localhost:5000/apps", platform: "linux/amd64", builder: "remote", binary: "/usr/bin/docker" }, { ...input, dockerfilePath: "./deploy/Dockerfile.prod" });
    expect(argv.slice(0, 5)).toEqual(["/usr/bin/docker", "buildx", "build", "--builder", "remote"]);
    expect(argv).toContain("/work/b1/app/deploy/Dockerfile.prod");
    expect(argv.join(" ")).toContain("--platform linux/amd64");
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
    try {
      normalizeDockerfilePath("../secret/Dockerfile");
    } catch (err) {
      expect((err as BuildError).reason).toBe("build_context_invalid");
      expect((err as BuildError).message).toContain("../secret/Dockerfile");
    }
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
