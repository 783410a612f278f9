import { packDirectory } from "@ctrl/artifact";
import type { Storage } from "@ctrl/s3";
import { startWorkerProcess, type RestateServer, type S3Server, type TestDatabase, type WorkerProcess } from "@ctrl/testing";
import { copyFile, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const helloDir = fileURLToPath(new URL("./fixtures/build-hello", import.meta.url));

/** The real servers a build-path worker process talks to. */
export interface BuildWorkerServers {
  database: TestDatabase;
  restate: RestateServer;
  s3: S3Server;
  /** BUILD_WORK_DIR. */
  workDir: string;
}

/**
 * The worker as a child process (`src/main.ts`) with the local builder, healthy and registered.
 * `port`/`healthPort` restart it in place; `env` overrides any variable.
 */
export async function startBuildWorker(
  servers: BuildWorkerServers,
  options: { port?: number; healthPort?: number; env?: Record<string, string> } = {},
): Promise<WorkerProcess> {
  const { database, restate, s3, workDir } = servers;
  const worker = await startWorkerProcess({
    entry,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.healthPort !== undefined ? { healthPort: options.healthPort } : {}),
    env: {
      DATABASE_URL: database.url,
      RESTATE_ADMIN_URL: restate.adminUrl,
      RESTATE_INGRESS_URL: restate.ingressUrl,
      RESTATE_IDENTITY_KEYS: restate.identityKeys.join(","),
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: "ctrl-builds",
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      BUILD_BACKEND: "local",
      BUILD_WORK_DIR: workDir,
      BUILD_TIMEOUT_SECONDS: "120",
      READINESS_TIMEOUT_MS: "60000",
      READINESS_POLL_MS: "200",
      LOG_LEVEL: "info",
      RESTATE_LOGGING: "WARN",
      ...options.env,
    },
    onLine: process.env.TEST_WORKER_OUTPUT ? (line) => console.log(`[worker] ${line}`) : undefined,
  });
  try {
    await worker.waitHealthy();
    await worker.waitForLine(/registered with restate/);
  } catch (err) {
    await worker.kill();
    throw err;
  }
  return worker;
}

/** Uploads a build context where CreateS3UploadURL would put it; returns its key. */
export async function uploadContext(storage: Storage, projectId: string, bytes: Buffer): Promise<string> {
  const key = `${projectId}/build_${Math.random().toString(36).slice(2)}.tar.gz`;
  await storage.putObject(key, bytes, "application/gzip");
  return key;
}

/** The hello fixture with `ctrl.json` replaced, packed under `scratch` as the CLI would. */
export async function helloContext(scratch: string, manifest?: object): Promise<Buffer> {
  const dir = await mkdtemp(join(scratch, "ctx-"));
  for (const name of await readdir(helloDir)) await copyFile(join(helloDir, name), join(dir, name));
  if (manifest) await writeFile(join(dir, "ctrl.json"), JSON.stringify(manifest));
  await packDirectory(dir, `${dir}.tar.gz`);
  return readFile(`${dir}.tar.gz`);
}
