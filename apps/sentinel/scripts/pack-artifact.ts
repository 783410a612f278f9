/**
 * Bundles the sentinel, packs it into an artifact (`ctrl.json` + `sentinel.cjs`), uploads it and
 * prints its reference — the value to configure as the worker's sentinel image. The key is
 * content-addressed, so packing an unchanged sentinel again yields the same reference.
 *
 * Usage: `tsx scripts/pack-artifact.ts` with `S3_ENDPOINT`, `S3_BUCKET`, `S3_REGION`,
 * `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY` (local s3rver defaults).
 */
import { formatArtifactRef, packDirectory, uploadArtifact } from "@ctrl/artifact";
import { createStorage, type Storage } from "@ctrl/s3";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleSentinel } from "./bundle.js";

/** Bundles, packs and uploads the sentinel; returns the `s3://bucket/key@sha256:…` reference. */
export async function packSentinelArtifact(storage: Storage, keyPrefix = "sentinel"): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "ctrl-sentinel-pack-"));
  try {
    const dir = await bundleSentinel(join(work, "root"));
    const archive = join(work, "sentinel.tar.gz");
    const { sha256 } = await packDirectory(dir, archive);
    const ref = await uploadArtifact(storage, `${keyPrefix}/sentinel-${sha256.slice(0, 16)}.tar.gz`, archive);
    return formatArtifactRef(ref);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const storage = createStorage({
    endpoint: env.S3_ENDPOINT ?? "http://127.0.0.1:9000",
    region: env.S3_REGION ?? "us-east-1",
    bucket: env.S3_BUCKET ?? "ctrl-builds",
    accessKeyId: env.S3_ACCESS_KEY_ID ?? "S3RVER",
    secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "S3RVER",
  });
  try {
    await storage.ensureBucket();
    console.log(await packSentinelArtifact(storage));
  } finally {
    storage.destroy();
  }
}
