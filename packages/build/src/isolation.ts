import {
  chownTree,
  findSandboxTools,
  installBridge,
  makeTraversable,
  reachableByWorkloads,
  sandboxArgv,
  startEgressProxy,
  workloadUid,
  type EgressProxy,
  type SandboxTools,
} from "@ctrl/sandbox";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { BuildError } from "./errors.js";
import { sandboxEnv, type BuildDirs, type SandboxOptions } from "./sandbox.js";
import { buildSteps } from "./steps.js";

/** Limits of one build's sandbox. */
export interface BuildSandboxLimits {
  /** Processes+threads of the build's uid (RLIMIT_NPROC); npm and bundlers are thread-hungry. Default 1024. */
  processes?: number;
  /** Largest file a build may write (RLIMIT_FSIZE). Default 1 GiB. */
  fileSizeBytes?: number;
}

/** A build's sandbox while it runs: how to wrap a command, its environment, and its egress proxy. */
export interface BuildSandbox {
  uid: number;
  /** The argv that runs `argv` inside the sandbox. */
  wrap(argv: string[]): string[];
  env: Record<string, string>;
  close(): Promise<void>;
}

let found: SandboxTools | undefined;

/** The sandbox tools, found once per process (throws a BuildError naming the install command when missing). */
export function buildSandboxTools(): SandboxTools {
  try {
    found ??= findSandboxTools("BUILD_SANDBOX=none");
    return found;
  } catch (err) {
    throw new BuildError(buildSteps.install, "build_not_configured", (err as Error).message);
  }
}

/** Inside the sandbox the build sees its directories here (see {@link openBuildSandbox}). */
const inside: BuildDirs = { root: "/", app: "/app", home: "/home/build", tmp: "/tmp", npmCache: "/home/build/.npm-cache" };
const proxyPort = 3128;

/**
 * Prepares the sandbox of one build (packages/sandbox): an unprivileged uid of its own
 * (200000 + a hash of the build id), which owns the extracted context, HOME, TMPDIR and npm's cache;
 * no network but an egress proxy that tunnels only to the registry's host (HTTPS, public addresses
 * only) — nothing on the host is reachable. Call after the context is extracted; `close` after the
 * last command.
 */
export async function openBuildSandbox(
  tools: SandboxTools,
  dirs: BuildDirs,
  buildId: string,
  options: SandboxOptions & { limits?: BuildSandboxLimits; onRefused?: (target: string, why: string) => void },
): Promise<BuildSandbox> {
  const uid = workloadUid(createHash("sha256").update(buildId).digest().readUInt32BE(0) % 100_000, 200_000);
  await makeTraversable(dirs.root);
  if (!reachableByWorkloads(tools.setpriv, dirs.root)) {
    let blocked = dirs.root;
    for (let d = dirname(dirs.root); d !== dirname(d); d = dirname(d)) if (!reachableByWorkloads(tools.setpriv, d)) blocked = d;
    throw new BuildError(
      buildSteps.install,
      "build_not_configured",
      `the build directory ${dirs.root} is not reachable by unprivileged users (${blocked} is not searchable), so the sandbox cannot mount it: every parent of BUILD_WORK_DIR needs o+x (chmod o+x ${blocked}), or set BUILD_WORK_DIR elsewhere`,
    );
  }
  for (const d of [dirs.app, dirs.home, dirs.tmp]) await chownTree(d, uid, uid);
  const registry = new URL(options.npmRegistry);
  const egressDir = join(dirs.root, "egress");
  await makeTraversable(egressDir);
  let proxy: EgressProxy | undefined = await startEgressProxy({
    socketPath: join(egressDir, "proxy.sock"),
    allowHosts: [registry.hostname],
    allowPorts: [Number(registry.port || (registry.protocol === "https:" ? 443 : 80))],
    ...(options.onRefused ? { onRefused: options.onRefused } : {}),
  });
  const bridge = await installBridge(join(dirs.root, "bin"));
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const env = {
    ...sandboxEnv(inside, { ...options, nodeBinary: tools.node }),
    HTTPS_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    npm_config_https_proxy: proxyUrl,
    npm_config_proxy: proxyUrl,
  };
  const limits = options.limits ?? {};
  return {
    uid,
    env,
    wrap: (argv) =>
      sandboxArgv(
        tools,
        {
          uid,
          gid: uid,
          mounts: [
            { host: dirs.app, sandbox: inside.app, writable: true },
            { host: dirs.home, sandbox: inside.home, writable: true },
            { host: proxy!.socketPath, sandbox: "/run/ctrl/egress.sock" },
          ],
          tmpHostDir: dirs.tmp,
          cwd: inside.app,
          network: "none",
          tmpBytes: 0,
          limits: { processes: limits.processes ?? 1024, fileSizeBytes: limits.fileSizeBytes ?? 1024 * 1024 * 1024, openFiles: 8192 },
          egress: { port: proxyPort, socket: "/run/ctrl/egress.sock" },
          bridgeScript: bridge,
        },
        argv,
      ),
    async close() {
      await proxy?.close();
      proxy = undefined;
    },
  };
}
