import { formatArtifactRef, packDirectory, uploadArtifact, type Storage } from "@ctrl/artifact";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readProcStat } from "../src/drivers/process/procfs.js";
import type { DesiredWorkload } from "../src/workload.js";

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root. */
export const repoRoot = join(here, "..", "..", "..");
export const helloDir = join(repoRoot, "examples", "hello");
export const probeDir = join(here, "fixtures", "probe");

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

/**
 * The host pid of the app serving `address`. A sandboxed app reports its pid in its own pid
 * namespace (2, 3, …); the host finds it as the process whose NSpid chain ends in that pid and
 * whose environment names the same instance and port. Unsandboxed, the two are the same.
 */
export async function hostPid(address: string): Promise<number> {
  const body = await getJson(address);
  const inner = body.pid as number;
  const marks = [`CTRL_INSTANCE_ID=${String(body.instanceId ?? (body.env as Record<string, string> | undefined)?.CTRL_INSTANCE_ID)}`, `PORT=${address.split(":")[1]}`];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const nspid = /^NSpid:\s+(.+)$/m.exec(await readFile(`/proc/${d}/status`, "utf8"))?.[1]?.trim().split(/\s+/);
      if (Number(nspid?.[nspid.length - 1]) !== inner) continue;
      const env = (await readFile(`/proc/${d}/environ`, "utf8")).split("\0");
      if (marks.every((m) => env.includes(m)) && (await readFile(`/proc/${d}/cmdline`, "utf8")).startsWith("node\0")) return Number(d);
    } catch {
      /* raced with an exit */
    }
  }
  throw new Error(`no host process serves ${address} (pid ${inner} in its namespace)`);
}
