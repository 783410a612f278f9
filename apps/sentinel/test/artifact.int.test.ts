/**
 * The sentinel artifact is what the agent runs: packed and uploaded to a real S3 server, downloaded
 * with digest verification, extracted safely, started with its manifest's command from a directory
 * with no node_modules, and it answers its health path.
 */
import { downloadArtifact, parseArtifactRef, readManifest, safeExtract } from "@ctrl/artifact";
import { createStorage } from "@ctrl/s3";
import { createTestDatabase, freePort, startProcess, startS3, waitFor, type S3Server, type TestDatabase } from "@ctrl/testing";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { packSentinelArtifact } from "../scripts/pack-artifact.js";

let s3: S3Server;
let database: TestDatabase;
let work: string;

beforeAll(async () => {
  [s3, database] = await Promise.all([startS3(), createTestDatabase()]);
  work = await mkdtemp(join(tmpdir(), "ctrl-sentinel-artifact-"));
});

afterAll(async () => {
  await s3?.dispose();
  await database?.drop();
  await rm(work, { recursive: true, force: true });
});

it("packs a content-addressed artifact that runs from its manifest with only node", async () => {
  const storage = createStorage({
    endpoint: s3.endpoint,
    region: "us-east-1",
    bucket: "ctrl-builds",
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
  await storage.ensureBucket();
  const image = await packSentinelArtifact(storage);
  expect(image).toMatch(/^s3:\/\/ctrl-builds\/sentinel\/sentinel-[0-9a-f]{16}\.tar\.gz@sha256:[0-9a-f]{64}$/);
  // Packing the same sentinel again gives the same reference (deterministic archive, content key).
  expect(await packSentinelArtifact(storage)).toBe(image);

  const ref = parseArtifactRef(image)!;
  const archive = join(work, "a.tar.gz");
  await downloadArtifact(storage, ref, archive);
  const root = join(work, "root");
  await safeExtract(archive, root);
  const manifest = await readManifest(root);
  expect(manifest.healthPath).toBe("/_ctrl/health");
  const [program, ...args] = manifest.start as string[];
  expect(program).toBe("node");

  const port = await freePort();
  const proc = startProcess("sentinel-artifact", process.execPath, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      CTRL_ENVIRONMENT_ID: "env_artifact",
      CTRL_REGION: "local",
      CTRL_SENTINEL_ID: "se_artifact",
      DATABASE_URL: database.url,
    },
  });
  try {
    await waitFor(
      "the artifact's health path",
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`exited: ${proc.tail()}`);
        return (await fetch(`http://127.0.0.1:${port}${manifest.healthPath}`)).status === 200;
      },
      { timeoutMs: 15_000 },
    );
  } finally {
    await proc.stop();
    storage.destroy();
  }
});
