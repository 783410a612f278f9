import { instanceEnv } from "@ctrl/artifact";
import type { DesiredWorkload } from "../../workload.js";
import type { LocalArtifact } from "./artifacts.js";
import type { LaunchSpec } from "./instance.js";

/** What an instance's environment is built from besides its workload's spec. */
export interface InstanceEnvironmentContext {
  region: string;
  /** Environment every instance inherits from the agent when not sandboxed (PATH etc.). */
  baseEnv: Record<string, string>;
  /** Extra environment for sentinel instances. */
  sentinelEnv?: Record<string, string>;
  /** The data directory's mark (`CTRL_AGENT`), by which orphans are found. */
  agentMark: string;
  sandboxed: boolean;
  /** Host path of the halt file when not sandboxed. */
  hostHaltFile: string;
}

/**
 * PORT and the ids (names from `instanceEnv`), the workload's decrypted variables, and a memory
 * limit for Node apps: `NODE_OPTIONS=--max-old-space-size=<¾ of memory_mib>` (V8's heap cap; the
 * rest is headroom for code, buffers and native memory). Other runtimes get no enforced limit
 * from this driver.
 */
export function instanceEnvironment(
  spec: DesiredWorkload,
  name: string,
  port: number,
  context: InstanceEnvironmentContext,
): Record<string, string> {
  const { sandboxed } = context;
  // Sandboxed: nothing of the agent's environment, only the sandbox's own PATH and HOME.
  const base = sandboxed ? { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/home/app" } : context.baseEnv;
  const env: Record<string, string> = { ...base, ...(spec.kind === "sentinel" ? context.sentinelEnv : {}), ...spec.env };
  if (spec.memoryMib > 0) {
    const heap = Math.max(16, Math.floor((spec.memoryMib * 3) / 4));
    env.NODE_OPTIONS = [env.NODE_OPTIONS, `--max-old-space-size=${heap}`].filter(Boolean).join(" ");
  }
  env[instanceEnv.port] = String(port);
  env[instanceEnv.instanceId] = name;
  env[instanceEnv.workspaceId] = spec.workspaceId;
  env[instanceEnv.projectId] = spec.projectId;
  env[instanceEnv.environmentId] = spec.environmentId;
  env[instanceEnv.region] = context.region;
  // What the instance runs, so it can say so (a sentinel reports it on /_ctrl/health).
  env[instanceEnv.image] = spec.image;
  env[instanceEnv.agent] = context.agentMark;
  env[instanceEnv.haltFile] = sandboxed ? "/run/instance/halt" : context.hostHaltFile;
  if (spec.kind === "deployment") env[instanceEnv.deploymentId] = spec.id;
  else env[instanceEnv.sentinelId] = spec.id;
  return env;
}

/** The deployment's command if set (exec'd directly), else the manifest's `start` (a string runs via `/bin/sh -c`). */
export function launchSpec(spec: DesiredWorkload, artifact: LocalArtifact, env: Record<string, string>): LaunchSpec {
  const start = artifact.manifest.start;
  const argv = spec.command.length ? spec.command : typeof start === "string" ? ["/bin/sh", "-c", start] : start;
  return { argv, cwd: artifact.dir, env };
}
