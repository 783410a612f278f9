import {
  findSandboxTools,
  installBridge,
  makeTraversable,
  makeWorkloadDir,
  sandboxArgv,
  workloadUid,
  type SandboxTools,
} from "@ctrl/sandbox";
import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { DesiredWorkload } from "../../workload.js";
import type { InstanceRecord, LaunchSpec } from "./instance.js";
import type { DataLayout } from "./layout.js";

/** bubblewrap and the fd-passing bridge script every sandboxed deployment runs behind. */
export interface Sandbox {
  tools: SandboxTools;
  bridge: string;
}

/** Limits of each sandboxed instance (see ProcessDriverOptions.sandboxLimits). */
export type SandboxLimits = { processes?: number; fileSizeBytes?: number; tmpBytes?: number };

/**
 * Finds bwrap (or logs that the sandbox is off) and makes the data directory usable by sandbox
 * uids; undefined when the sandbox is off.
 */
export async function prepareSandbox(
  option: SandboxTools | "none" | undefined,
  layout: DataLayout,
  logger: Logger,
): Promise<Sandbox | undefined> {
  if (option === "none") {
    logger.warn(
      "KRANE_SANDBOX=none: tenant instances run WITHOUT a sandbox, as the agent's own user, and can read its data, environment and network. Use only on a trusted single-user machine.",
    );
    return undefined;
  }
  const tools = option ?? findSandboxTools("KRANE_SANDBOX=none");
  // bwrap resolves mount sources as the instance's uid: the way to artifacts/ and sandboxes/ must be searchable.
  for (const d of [layout.root, layout.path("artifacts"), layout.path("sandboxes")]) await makeTraversable(d);
  const bridge = await installBridge(layout.path("sandbox-bin"));
  try {
    execFileSync(tools.setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "/usr/bin/test", "-r", bridge], {
      stdio: "ignore",
    });
  } catch {
    throw new Error(
      `krane: KRANE_DATA_DIR ${layout.root} is not reachable by unprivileged users (every parent directory needs o+x, e.g. chmod o+x on it): sandboxed instances run as their own uid and could not see their artifacts`,
    );
  }
  logger.info({ bwrap: tools.bwrap }, "instances run sandboxed (bubblewrap: own pid/mount/user/network namespaces, unprivileged uid)");
  return { tools, bridge };
}

/**
 * Wraps a launch in bubblewrap (packages/sandbox): the instance runs as uid 100000+port (unique
 * among live instances, so RLIMIT_NPROC is its own), sees its artifact read-only at /app, a
 * private writable home and run dir (recreated at every start, removed at stop), and — for
 * deployments — only its own loopback: the host port reaches it through the fd-passing bridge.
 * Sentinels, the platform's own proxies, keep the host network (they must reach MySQL and the
 * instances) but get the same pid/mount/user isolation.
 */
export async function sandboxedLaunch(
  sandbox: Sandbox,
  layout: DataLayout,
  limits: SandboxLimits,
  workload: DesiredWorkload,
  record: InstanceRecord,
  spec: LaunchSpec,
): Promise<LaunchSpec> {
  const uid = workloadUid(record.port);
  const dir = layout.sandboxDir(record.kind, record.name);
  await rm(dir, { recursive: true, force: true });
  await makeTraversable(dir);
  await makeWorkloadDir(join(dir, "home"), uid, uid);
  await makeWorkloadDir(join(dir, "run"), uid, uid);
  record.sandboxDir = dir;
  record.haltFile = join(dir, "run", "halt");
  const ownNetwork = workload.kind === "deployment";
  const argv = sandboxArgv(
    sandbox.tools,
    {
      uid,
      gid: uid,
      mounts: [
        { host: spec.cwd, sandbox: "/app" },
        { host: join(dir, "home"), sandbox: "/home/app", writable: true },
        { host: join(dir, "run"), sandbox: "/run/instance", writable: true },
      ],
      cwd: "/app",
      network: ownNetwork ? "none" : "host",
      tmpBytes: limits.tmpBytes ?? 64 * 1024 * 1024,
      limits: { processes: limits.processes ?? 512, fileSizeBytes: limits.fileSizeBytes ?? 1024 * 1024 * 1024, openFiles: 4096 },
      ...(ownNetwork ? { portBridge: { fd: 3, port: record.port } } : { extraEtc: ["resolv.conf"] }),
      bridgeScript: sandbox.bridge,
    },
    spec.argv,
  );
  return { argv, cwd: spec.cwd, env: spec.env, ...(ownNetwork ? { listenPort: record.port } : {}) };
}
