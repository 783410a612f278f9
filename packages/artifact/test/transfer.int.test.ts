import { createStorage, type Storage } from "@ctrl/s3";
import { startS3, type S3Server } from "@ctrl/testing";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArtifactError,
  downloadArtifact,
  formatArtifactRef,
  packDirectory,
  parseArtifactRef,
  safeExtract,
  uploadArtifact,
} from "../src/index.js";

// Guarantee: an agent only ever unpacks bytes whose sha256 equals the reference's digest.
let s3: S3Server;
let storage: Storage;
let work: string;

beforeAll(async () => {
  s3 = await startS3();
  storage = createStorage({
    endpoint: s3.endpoint,
    region: "us-east-1",
    bucket: "ctrl-artifacts",
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
  await storage.ensureBucket();
  work = await mkdtemp(join(tmpdir(), "ctrl-artifact-s3-"));
});
afterAll(async () => {
  storage?.destroy();
  await s3?.dispose();
  await rm(work, { recursive: true, force: true });
});

async function packed(name: string, body: string) {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "ctrl.json"), JSON.stringify({ start: "node server.js" }));
  await writeFile(join(dir, "server.js"), body);
  const file = join(work, `${name}.tar.gz`);
  const { sha256 } = await packDirectory(dir, file);
  return { file, sha256 };
}

describe("upload and verified download (real s3rver)", () => {
  it("uploads, references, downloads and unpacks the same bytes", async () => {
    const { file, sha256 } = await packed("ok", "console.log('ok')\n");
    const ref = await uploadArtifact(storage, "artifacts/ok.tar.gz", file);
    expect(ref).toEqual({ bucket: "ctrl-artifacts", key: "artifacts/ok.tar.gz", sha256 });
    const parsed = parseArtifactRef(formatArtifactRef(ref))!;
    const dest = join(work, "ok-dl.tar.gz");
    await downloadArtifact(storage, parsed, dest);
    expect(await readFile(dest)).toEqual(await readFile(file));
    await safeExtract(dest, join(work, "ok-x"));
    expect(await readFile(join(work, "ok-x", "server.js"), "utf8")).toBe("console.log('ok')\n");
  });

  it("refuses bytes whose digest differs from the reference, leaving no file behind", async () => {
    const { file } = await packed("bad", "console.log('bad')\n");
    const ref = await uploadArtifact(storage, "artifacts/bad.tar.gz", file);
    const dest = join(work, "dl", "bad.tar.gz");
    await mkdir(join(work, "dl"), { recursive: true });
    const wrong = { ...ref, sha256: ref.sha256.replace(/^./, (c) => (c === "0" ? "1" : "0")) };
    const err = await downloadArtifact(storage, wrong, dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactError);
    expect((err as ArtifactError).code).toBe("digest_mismatch");
    expect((err as Error).message).toContain(ref.sha256);
    expect(existsSync(dest)).toBe(false);
    expect(await readdir(join(work, "dl"))).toEqual([]);
  });

  it("detects an object replaced after its reference was made", async () => {
    const { file } = await packed("swap", "v1\n");
    const ref = await uploadArtifact(storage, "artifacts/swap.tar.gz", file);
    const other = await packed("swap2", "v2\n");
    await uploadArtifact(storage, "artifacts/swap.tar.gz", other.file);
    const err = await downloadArtifact(storage, ref, join(work, "swap-dl.tar.gz")).catch((e: unknown) => e);
    expect((err as ArtifactError).code).toBe("digest_mismatch");
  });

  it("says not_found for a missing key or bucket", async () => {
    const sha256 = "0".repeat(64);
    for (const ref of [
      { bucket: "ctrl-artifacts", key: "nope.tar.gz", sha256 },
      { bucket: "no-such-bucket", key: "nope.tar.gz", sha256 },
    ]) {
      const err = await downloadArtifact(storage, ref, join(work, "nf.tar.gz")).catch((e: unknown) => e);
      expect((err as ArtifactError).code).toBe("not_found");
    }
  });

  it("refuses an object over maxBytes", async () => {
    const { file } = await packed("big", "x".repeat(10_000));
    const ref = await uploadArtifact(storage, "artifacts/big.tar.gz", file);
    const err = await downloadArtifact(storage, ref, join(work, "big-dl.tar.gz"), { maxBytes: 10 }).catch((e: unknown) => e);
    expect((err as ArtifactError).code).toBe("too_large");
    expect(existsSync(join(work, "big-dl.tar.gz"))).toBe(false);
  });
});
