/** Runs the real krane agent as a child process (`node --import tsx src/main.ts`), so SIGKILL hits the agent itself. */
import { startProcess, type ManagedProcess, waitFor } from "@ctrl/testing";
import { readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./helpers.js";

const require = createRequire(import.meta.url);
const tsxLoader = pathToFileURL(require.resolve("tsx")).href;
const mainFile = join(repoRoot, "apps", "krane", "src", "main.ts");

/** A running agent process. */
export interface AgentProcess {
  proc: ManagedProcess;
  /** Its KRANE_TOKEN (guards /status and /logs too). */
  token: string;
  httpUrl: string;
  /** Parsed JSON log lines so far. */
  lines: Array<Record<string, unknown>>;
  /** GET /status (bearer). */
  status(): Promise<{
    cursors: Record<string, string>;
    workloads: Array<{ name: string; instances: Array<{ name: string; phase: string; address: string }> }>;
  }>;
}

/** Options for {@link startAgent}. */
export interface AgentOptions {
  apiUrl: string;
  token: string;
  region: string;
  dataDir: string;
  portRange: string;
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  env?: Record<string, string>;
}

/** Starts the agent and resolves once its HTTP endpoint listens. */
export async function startAgent(o: AgentOptions): Promise<AgentProcess> {
  const lines: Array<Record<string, unknown>> = [];
  let httpPort: number | undefined;
  const proc = startProcess(`krane-${o.region}`, process.execPath, ["--import", tsxLoader, mainFile], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      KRANE_CONTROL_PLANE_URL: o.apiUrl,
      KRANE_TOKEN: o.token,
      KRANE_REGION: o.region,
      KRANE_DATA_DIR: o.dataDir,
      KRANE_PORT_RANGE: o.portRange,
      KRANE_HTTP_PORT: "0",
      KRANE_RESTART_BACKOFF_MS: "100",
      KRANE_RESTART_BACKOFF_MAX_MS: "400",
      KRANE_MAX_RESTARTS: "2",
      KRANE_STOP_GRACE_MS: "2000",
      KRANE_HEALTH_INTERVAL_MS: "50",
      KRANE_RESYNC_INTERVAL_MS: "2000",
      S3_ENDPOINT: o.s3.endpoint,
      S3_ACCESS_KEY_ID: o.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: o.s3.secretAccessKey,
      LOG_LEVEL: "debug",
      ...o.env,
    },
    onLine: (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (parsed.msg === "agent http listening") httpPort = parsed.httpPort as number;
      } catch {
        /* not a log line */
      }
      if (process.env.KRANE_TEST_ECHO) console.log(`[krane-${o.region}] ${line}`);
    },
  });
  await waitFor(`agent ${o.region} to listen`, () => httpPort !== undefined || proc.child.exitCode !== null, { timeoutMs: 30_000 });
  if (httpPort === undefined) throw new Error(`agent ${o.region} exited:\n${proc.tail()}`);
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  return {
    proc,
    token: o.token,
    httpUrl,
    lines,
    async status() {
      const res = await fetch(`${httpUrl}/status`, { headers: { authorization: `Bearer ${o.token}` } });
      if (res.status !== 200) throw new Error(`/status answered ${res.status}`);
      return (await res.json()) as Awaited<ReturnType<AgentProcess["status"]>>;
    },
  };
}

/**
 * SIGKILLs every instance recorded in an agent's data dir. Instances deliberately outlive their
 * agent (each runs in its own process group, named by its state file), so a test that stops an agent
 * ends them this way. Tolerates a missing dir and half-written records.
 */
export async function stopRecordedInstances(dataDir: string): Promise<void> {
  const files = await readdir(join(dataDir, "instances")).catch(() => [] as string[]);
  for (const f of files.filter((x) => x.endsWith(".json"))) {
    const record = JSON.parse(await readFile(join(dataDir, "instances", f), "utf8").catch(() => "{}")) as { pid?: number };
    if (!record.pid) continue;
    try {
      process.kill(-record.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}

/** Test teardown: SIGKILLs the agents and every instance they left, and removes the data dirs. */
export async function stopAgentsAndInstances(agents: readonly AgentProcess[], dataDirs: readonly string[]): Promise<void> {
  for (const a of agents) await a.proc.kill();
  for (const dir of dataDirs) {
    await stopRecordedInstances(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

export { hostPidOf } from "./host-pid.js";
// What whole-stack tests and bench need besides the agent: the example artifact and its upload.
export { getJson, helloDir, hostPid, pidAlive, pushArtifact } from "./helpers.js";
