/**
 * The bundled sentinel as a real process, for the sentinel's tests and bench. The rows it routes by
 * and the upstreams behind it are the edge fixtures of `@ctrl/testing`.
 */
import { freePort, startProcess, waitFor, type ManagedProcess } from "@ctrl/testing";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleSentinel } from "../scripts/bundle.js";

/** Bundles the sentinel into a fresh directory outside the repo (no node_modules within reach). */
export async function bundleSentinelForTest(): Promise<string> {
  return bundleSentinel(await mkdtemp(join(tmpdir(), "ctrl-sentinel-")));
}

/** A sentinel running from its bundle as a real process. */
export interface SentinelProcess {
  address: string;
  port: number;
  process: ManagedProcess;
  health(): Promise<{ requests: number; instances: number; retries: number; byDeployment: Record<string, number> }>;
}

/** Starts `node sentinel.cjs` from `bundleDir` as the agent would (env from packages/artifact `instanceEnv`). */
export async function startSentinelProcess(
  bundleDir: string,
  options: { databaseUrl: string; environmentId: string; port?: number; region?: string; upstreamPorts?: string },
): Promise<SentinelProcess> {
  const port = options.port ?? (await freePort());
  const proc = startProcess("sentinel", process.execPath, ["sentinel.cjs"], {
    cwd: bundleDir,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      CTRL_ENVIRONMENT_ID: options.environmentId,
      CTRL_REGION: options.region ?? "local",
      CTRL_SENTINEL_ID: "se_test",
      DATABASE_URL: options.databaseUrl,
      SENTINEL_POLL_INTERVAL_MS: "100",
      // Test upstreams listen on ephemeral ports (32768+), outside krane's default range.
      SENTINEL_UPSTREAM_PORT_RANGE: options.upstreamPorts ?? "1024-65535",
      LOG_LEVEL: "info",
    },
  });
  const url = `http://127.0.0.1:${port}/_ctrl/health`;
  await waitFor(
    `sentinel on ${port}`,
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`sentinel exited: ${proc.tail()}`);
      return (await fetch(url)).status === 200;
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  return {
    address: `127.0.0.1:${port}`,
    port,
    process: proc,
    async health() {
      return (await (await fetch(url)).json()) as Awaited<ReturnType<SentinelProcess["health"]>>;
    },
  };
}
