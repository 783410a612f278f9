import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ArtifactError, artifactRefProblem, formatArtifactRef, parseArtifactRef, parseManifest, readManifest } from "../src/index.js";

const sha = "a".repeat(64);

describe("artifact references", () => {
  it("round-trips s3://<bucket>/<key>@sha256:<hex>", () => {
    const ref = { bucket: "ctrl-builds", key: "artifacts/hello/x@y.tar.gz", sha256: sha };
    const s = formatArtifactRef(ref);
    expect(s).toBe(`s3://ctrl-builds/artifacts/hello/x@y.tar.gz@sha256:${sha}`);
    expect(parseArtifactRef(s)).toEqual(ref);
  });

  it.each([
    ["a container image", "ghcr.io/acme/app:1.2.3"],
    ["a docker hub image with digest", `nginx@sha256:${sha}`],
    ["an empty string", ""],
    ["no digest", "s3://b-1/key.tar.gz"],
    ["a short digest", "s3://bkt/key.tar.gz@sha256:abc"],
    ["an uppercase digest", `s3://bkt/key.tar.gz@sha256:${"A".repeat(64)}`],
    ["no key", `s3://bkt@sha256:${sha}`],
    ["an empty key", `s3://bkt/@sha256:${sha}`],
    ["a .. key segment", `s3://bkt/a/../b@sha256:${sha}`],
    ["a bad bucket", `s3://B_K/key@sha256:${sha}`],
    ["a control character", `s3://bkt/ke\ny@sha256:${sha}`],
  ])("rejects %s with a reason", (_what, image) => {
    expect(parseArtifactRef(image)).toBeUndefined();
    expect(artifactRefProblem(image)).toMatch(/artifact reference|not a valid|digest|key/);
  });

  it("refuses to format an invalid reference", () => {
    expect(() => formatArtifactRef({ bucket: "bkt", key: "k", sha256: "nope" })).toThrow(/digest/);
  });
});

describe("ctrl.json", () => {
  it("accepts the documented fields", () => {
    expect(parseManifest({ start: "node server.js", port: 3000, healthPath: "/health", build: ["npm", "ci"] })).toEqual({
      start: "node server.js",
      port: 3000,
      healthPath: "/health",
      build: ["npm", "ci"],
    });
  });

  it.each([
    [{}, /start/],
    [{ start: "" }, /start: must not be empty/],
    [{ start: [] }, /start/],
    [{ start: [""] }, /start/],
    [{ start: "x", port: 0 }, /port/],
    [{ start: "x", port: 70000 }, /port/],
    [{ start: "x", healthPath: "health" }, /healthPath: must start with \//],
    [{ start: "x", strat: "typo" }, /strat/],
    [[], /root|expected object/],
    [null, /expected object|root/],
  ])("rejects %j naming the field", (value, message) => {
    const err = (() => {
      try {
        parseManifest(value);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ArtifactError);
    expect((err as ArtifactError).code).toBe("invalid_manifest");
    expect((err as Error).message).toMatch(message);
  });

  it("reads from a directory, with clear errors for a missing file and bad JSON", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ctrl-manifest-"));
    try {
      await expect(readManifest(dir)).rejects.toThrow(/ctrl.json not found/);
      await writeFile(join(dir, "ctrl.json"), "{ start: nope");
      await expect(readManifest(dir)).rejects.toThrow(/not valid JSON/);
      await writeFile(join(dir, "ctrl.json"), JSON.stringify({ start: ["node", "server.js"] }));
      expect(await readManifest(dir)).toEqual({ start: ["node", "server.js"] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
