/**
 * Packs a directory into an artifact, uploads it and prints its reference, so a person can deploy
 * by image reference before builders exist:
 *
 *   pnpm --filter @ctrl/krane artifact:push ../../examples/hello [--name hello]
 *   → s3://ctrl-builds/artifacts/hello/<sha256>.tar.gz@sha256:<sha256>
 *
 * S3 comes from the same variables as ctrl-api (S3_ENDPOINT, S3_BUCKET, S3_REGION,
 * S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY; local-stack defaults). `.git` and `.data` are left out.
 */
import { formatArtifactRef, packDirectory, readManifest, uploadArtifact } from "@ctrl/artifact";
import { createStorage } from "@ctrl/s3";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { z } from "zod";

const env = z
  .object({
    /** Internal S3 endpoint. */
    S3_ENDPOINT: z.string().url().default("http://127.0.0.1:9000"),
    S3_REGION: z.string().default("us-east-1"),
    /** Bucket the artifact goes to (the reference names it). */
    S3_BUCKET: z.string().min(3).default("ctrl-builds"),
    S3_ACCESS_KEY_ID: z.string().default("S3RVER"),
    S3_SECRET_ACCESS_KEY: z.string().default("S3RVER"),
  })
  .parse(process.env);

const args = process.argv.slice(2);
const nameAt = args.indexOf("--name");
const name = nameAt >= 0 ? args[nameAt + 1] : undefined;
const dirArg = args.find((a, i) => !a.startsWith("--") && (nameAt < 0 || i !== nameAt + 1));
if (!dirArg) {
  console.error("usage: artifact:push <directory> [--name <name>]");
  process.exit(2);
}
const dir = resolve(dirArg);
const artifactName = (name ?? basename(dir)).replace(/[^A-Za-z0-9._-]/g, "-");

// Fail before uploading anything the agent would refuse.
await readManifest(dir);
const work = await mkdtemp(join(tmpdir(), "ctrl-artifact-"));
const storage = createStorage({
  endpoint: env.S3_ENDPOINT,
  region: env.S3_REGION,
  bucket: env.S3_BUCKET,
  accessKeyId: env.S3_ACCESS_KEY_ID,
  secretAccessKey: env.S3_SECRET_ACCESS_KEY,
});
try {
  const file = join(work, `${artifactName}.tar.gz`);
  const { sha256, bytes } = await packDirectory(dir, file, { ignore: (p) => p === ".git" || p === ".data" || p.endsWith(".tar.gz") });
  await storage.ensureBucket();
  const ref = await uploadArtifact(storage, `artifacts/${artifactName}/${sha256}.tar.gz`, file);
  console.error(`packed ${dir} (${bytes} bytes) and uploaded it`);
  console.log(formatArtifactRef(ref));
} finally {
  storage.destroy();
  await rm(work, { recursive: true, force: true });
}
