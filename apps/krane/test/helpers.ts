import { formatArtifactRef, packDirectory, uploadArtifact, type Storage } from "@ctrl/artifact";
import { createStorage } from "@ctrl/s3";
import { startS3, type S3Server } from "@ctrl/testing";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readProcStat } from "../src/drivers/process/procfs.js";
import { hostPidOf } from "./host-pid.js";
import type { SupervisorPolicy } from "../src/drivers/process/instance.js";
import type { DesiredWorkload } from "../src/workload.js";

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root. */
export const repoRoot = join(here, "..", "..", "..");
export const helloDir = join(repoRoot, "examples", "hello");
export const probeDir = join(here, "fixtures", "probe");

/** A real S3 server (s3rver) with the artifacts bucket, and a storage client for it. */
export async function startArtifactStore(): Promise<{ s3: S3Server; storage: ReturnType<typeof createStorage> }> {
  const s3 = await startS3();
  const storage = createStorage({
    endpoint: s3.endpoint,
    region: "us-east-1",
    bucket: "ctrl-builds",
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
  await storage.ensureBucket();
  return { s3, storage };
}

/** The process driver's supervision policy with test-speed timings; tests override what they probe. */
export function supervisorPolicy(overrides: Partial<SupervisorPolicy> = {}): SupervisorPolicy {
  return {
    restartBackoffMs: 100,
    restartBackoffMaxMs: 400,
    maxRestarts: 3,
    stableAfterMs: 5_000,
    healthIntervalMs: 50,
    livenessIntervalMs: 500,
    livenessFailures: 3,
    stopGraceMs: 1_000,
    adoptedPollMs: 100,
    ...overrides,
  };
}

/** Packs and uploads a directory; returns its artifact reference. */
export async function pushArtifact(storage: Storage, dir: string, name: string): Promise<string> {
  const out = join(await mkdtemp(join(tmpdir(), "ctrl-push-")), `${name}.tar.gz`);
  const { sha256 } = await packDirectory(dir, out);
  const ref = await uploadArtifact(storage, `artifacts/${name}/${sha256}.tar.gz`, out);
  return formatArtifactRef(ref);
}

/** A desired deployment workload with test defaults. */
export function deployment(name: string, image: string, extra: Partial<DesiredWorkload> = {}): DesiredWorkload {
  return {
    kind: "deployment",
    name,
    id: `d_${name}`,
    workspaceId: "ws_test",
    projectId: "proj_test",
    environmentId: "env_test",
    image,
    replicas: 1,
    cpuMillicores: 0,
    memoryMib: 0,
    command: [],
    healthCheckPath: "",
    port: 0,
    env: {},
    ...extra,
  };
}

/** Fetches JSON from an instance address. */
export async function getJson(address: string, path = "/"): Promise<Record<string, unknown>> {
  const res = await fetch(`http://${address}${path}`);
  if (res.status !== 200) throw new Error(`${address}${path} answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/** True when a pid is a live process (zombies, whose parent has not reaped them yet, count as dead). */
export async function pidAlive(pid: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

/** The host pid of the app serving `address` (it reports its own pid; see {@link hostPidOf}). */
export async function hostPid(address: string): Promise<number> {
  return hostPidOf(Number(address.split(":")[1]), (await getJson(address)).pid as number);
}
