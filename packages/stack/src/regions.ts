/**
 * Several regions as real processes, for the whole-stack tests of multi-region behaviour: per region a
 * krane agent (process driver, sandboxed, running the environment's sentinels) with its own port
 * range and data dir, and a frontline that routes that region only. The control plane is the
 * caller's (`startTestStack`).
 */
import type { TestStack } from "@ctrl/ctrl-api/testing";
import { startFrontlineProcess, type FrontlineProcess } from "@ctrl/frontline/testing";
import { startAgent, stopAgentsAndInstances, type AgentProcess } from "@ctrl/krane/testing";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";

/** One region: its agent and its frontline. */
export interface RegionProcesses {
  region: string;
  agent: AgentProcess;
  frontline: FrontlineProcess;
  dataDir: string;
}

/** What a request through a region's frontline got (examples/hello and examples/flaky name who answered). */
export interface RegionAnswer {
  status: number;
  deploymentId?: string;
  /** The region of the instance that answered. */
  region?: string;
  setCookie?: string;
  body: string;
}

/** The running regions. */
export interface Regions {
  byName: Map<string, RegionProcesses>;
  /** GET `path` through `region`'s frontline with a Host header (and a cookie, for sticky versions). */
  through(region: string, host: string, options?: { cookie?: string; path?: string }): Promise<RegionAnswer>;
  /** SIGKILLs the agents and every instance they started, then stops the frontlines. */
  close(): Promise<void>;
}

/** Options for {@link startRegions}. */
export interface RegionsOptions {
  /** Ports per region's agent; region i gets `[portBase + i * portsPerRegion, … + portsPerRegion - 1]`. */
  portBase: number;
  portsPerRegion?: number;
  /** Extra agent env (e.g. KRANE_MAX_RESTARTS), or a function of the region (e.g. its KRANE_VAULT_MASTER_KEYS). */
  agentEnv?: Record<string, string> | ((region: string) => Record<string, string>);
  /** Extra frontline env. */
  frontlineEnv?: Record<string, string>;
}

/** Starts an agent and a frontline per region against `stack`'s ctrl-api and database. */
export async function startRegions(stack: TestStack, regions: readonly string[], options: RegionsOptions): Promise<Regions> {
  const size = options.portsPerRegion ?? 40;
  const allPorts = `${options.portBase}-${options.portBase + regions.length * size - 1}`;
  const byName = new Map<string, RegionProcesses>();
  const agents: AgentProcess[] = [];
  const dataDirs: string[] = [];
  const frontlines: FrontlineProcess[] = [];
  const client = new Agent({ connections: 64 });
  const close = async () => {
    for (const f of frontlines) await f.process.stop(3_000);
    await stopAgentsAndInstances(agents, dataDirs);
    await client.close();
  };
  try {
    await Promise.all(
      regions.map(async (region, i) => {
        const low = options.portBase + i * size;
        const dataDir = await mkdtemp(join(tmpdir(), `ctrl-region-${region}-`));
        dataDirs.push(dataDir);
        const ports = { low, high: low + size - 1 };
        const agent = await startAgent({
          apiUrl: stack.apiUrl,
          token: await stack.agentToken(region, { ports }),
          region,
          dataDir,
          portRange: `${ports.low}-${ports.high}`,
          s3: stack.s3,
          env: {
            KRANE_SENTINEL_ENV: JSON.stringify({ DATABASE_URL: stack.database.url, SENTINEL_POLL_INTERVAL_MS: "100", LOG_LEVEL: "warn" }),
            LOG_LEVEL: "info",
            ...(typeof options.agentEnv === "function" ? options.agentEnv(region) : options.agentEnv),
          },
        });
        agents.push(agent);
        const frontline = await startFrontlineProcess({
          DATABASE_URL: stack.database.url,
          CTRL_API_URL: stack.apiUrl,
          CTRL_FRONTLINE_TOKEN: stack.frontlineToken,
          FRONTLINE_REGION: region,
          // Sentinels of every region sit in these ranges; frontline only routes to its own region's.
          FRONTLINE_UPSTREAM_PORT_RANGE: allPorts,
          LOG_LEVEL: "warn",
          ...options.frontlineEnv,
        });
        frontlines.push(frontline);
        byName.set(region, { region, agent, frontline, dataDir });
      }),
    );
  } catch (err) {
    await close();
    throw err;
  }
  return {
    byName,
    async through(region, host, { cookie, path = "/" } = {}) {
      const frontline = byName.get(region)?.frontline;
      if (!frontline) throw new Error(`no region ${region}`);
      const res = await request(`${frontline.url}${path}`, { dispatcher: client, headers: { host, ...(cookie ? { cookie } : {}) } });
      const body = await res.body.text();
      const setCookie = res.headers["set-cookie"];
      let who: { deploymentId?: string; region?: string } = {};
      try {
        who = JSON.parse(body) as typeof who;
      } catch {
        /* not the example's JSON */
      }
      return {
        status: res.statusCode,
        body,
        ...(who.deploymentId ? { deploymentId: who.deploymentId } : {}),
        ...(who.region ? { region: who.region } : {}),
        ...(setCookie ? { setCookie: Array.isArray(setCookie) ? setCookie.join("; ") : setCookie } : {}),
      };
    },
    close,
  };
}
