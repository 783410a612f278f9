import { describe, expect, it } from "vitest";
import { isImageReference, truncateUtf8, utf8Bytes, validateCreateDeployment } from "./validate.js";

describe("truncateUtf8", () => {
  it("keeps short strings and cuts long ones on character boundaries", () => {
    expect(truncateUtf8("abc", 3)).toBe("abc");
    expect(truncateUtf8("abcd", 3)).toBe("abc");
    expect(truncateUtf8("ééé", 5)).toBe("éé"); // 2 bytes each: the third would split
    expect(truncateUtf8("😀😀", 7)).toBe("😀"); // a surrogate pair is never split
    expect(truncateUtf8("", 0)).toBe("");
    for (const s of ["a😀é中b".repeat(50)]) {
      for (let n = 0; n < 60; n++) {
        const cut = truncateUtf8(s, n);
        expect(utf8Bytes(cut)).toBeLessThanOrEqual(n);
        expect(Buffer.from(cut, "utf8").toString("utf8")).toBe(cut); // valid UTF-8
        expect(s.startsWith(cut)).toBe(true);
      }
    }
  });
});

describe("isImageReference", () => {
  it.each([
    "nginx",
    "nginx:1.25",
    "library/nginx:latest",
    "ghcr.io/acme/api:1.2.3",
    "localhost:5000/app",
    `repo@sha256:${"a".repeat(64)}`,
    `s3://ctrl-builds/proj_1/artifacts/build_x.tar.gz@sha256:${"b".repeat(64)}`,
    `s3://ctrl-builds/artifacts/hello/x.tar.gz@sha256:${"a".repeat(64)}`,
  ])("accepts %s", (ref) => {
    expect(isImageReference(ref)).toBe(true);
  });
  it.each([
    "",
    "not an image",
    "UPPER/case",
    "nginx:",
    "-nginx",
    "artifact://proj_1/x",
    `s3://ctrl-builds/a/b@sha256:${"B".repeat(64)}`,
    "s3://ctrl-builds/a/b@sha256:short",
    "file:///etc/passwd",
    "a//b",
    "nginx@sha256:short",
    "s3://ctrl-builds/a/../b@sha256:" + "a".repeat(64),
    "s3://ctrl-builds/k.tar.gz",
  ])("rejects %s", (ref) => {
    expect(isImageReference(ref)).toBe(false);
  });
});

describe("validateCreateDeployment", () => {
  const base = {
    projectId: "proj_1",
    branch: "",
    environmentSlug: "preview",
    sources: [{ kind: "image" as const, image: "nginx" }],
    command: [],
  };
  const now = 1_800_000_000_000;
  it("accepts the boundaries of the timestamp rule", () => {
    const at = (timestamp: number) =>
      validateCreateDeployment(
        { ...base, gitCommit: { commitSha: "", commitMessage: "", authorHandle: "", authorAvatarUrl: "", timestamp } },
        now,
      );
    expect(at(1e12).git.timestamp).toBe(1e12);
    expect(at(now + 3_600_000).git.timestamp).toBe(now + 3_600_000);
    expect(at(0).git.timestamp).toBeNull();
    expect(() => at(1e12 - 1)).toThrow(/seconds/);
    expect(() => at(now + 3_600_001)).toThrow(/future/);
  });
  it("needs exactly one source", () => {
    expect(() => validateCreateDeployment({ ...base, sources: [] }, now)).toThrow(/exactly one source/);
    expect(() =>
      validateCreateDeployment(
        {
          ...base,
          sources: [
            { kind: "image", image: "nginx" },
            { kind: "build_context", path: "proj_1/x.tar.gz" },
          ],
        },
        now,
      ),
    ).toThrow(/not both/);
  });
  it("runs an artifact of the project or a shared one, never another project's", () => {
    const ref = (key: string) => `s3://ctrl-builds/${key}@sha256:${"c".repeat(64)}`;
    for (const key of ["proj_1/artifacts/build_1.tar.gz", "artifacts/hello/x.tar.gz"]) {
      expect(validateCreateDeployment({ ...base, sources: [{ kind: "image", image: ref(key) }] }, now).source).toEqual({
        kind: "image",
        image: ref(key),
      });
    }
    expect(() =>
      validateCreateDeployment({ ...base, sources: [{ kind: "image", image: ref("proj_2/artifacts/build_1.tar.gz") }] }, now),
    ).toThrow(/this project/);
  });
  it("defaults the dockerfile and keeps an empty branch for the project default", () => {
    const v = validateCreateDeployment({ ...base, sources: [{ kind: "build_context", path: "proj_1/build_x.tar.gz" }] }, now);
    expect(v.source).toEqual({ kind: "build_context", path: "proj_1/build_x.tar.gz", dockerfile: "Dockerfile" });
    expect(v.branch).toBe("");
    expect(v.command).toBeNull();
  });
});
