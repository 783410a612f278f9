import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { SandboxTools } from "./bwrap.js";

/** A host path made visible inside the sandbox. */
export interface SandboxMount {
  host: string;
  sandbox: string;
  /** Read-write; default read-only. */
  writable?: boolean;
}

/**
 * What one sandboxed workload (an instance or a build step) may see and do. The rest of the host
 * is invisible: the sandbox root is an empty tmpfs with only the system directories below, `mounts`,
 * a fresh /proc of its own pid namespace, a minimal /dev and a size-bounded /tmp.
 */
export interface SandboxPolicy {
  /** Unprivileged host uid/gid the workload runs as (never 0; see {@link workloadUid}). */
  uid: number;
  gid: number;
  mounts: SandboxMount[];
  /** Working directory inside the sandbox. */
  cwd: string;
  /**
   * `none`: a network namespace with only loopback (tenant code). `host`: the host's network (the
   * platform's own sentinels, which must reach MySQL and the instances); pid/ipc/uts/mount/user
   * namespaces stay private either way.
   */
  network: "none" | "host";
  /** Size of the private /tmp (tmpfs, counts against memory). */
  tmpBytes: number;
  /** Use this host directory (private to the workload) as /tmp instead of a tmpfs: builds need room. */
  tmpHostDir?: string;
  limits: {
    /** RLIMIT_NPROC: processes/threads of the workload's uid (bwrap's own 2-3 and the bridge count). */
    processes: number;
    /** RLIMIT_FSIZE: largest file it may write (SIGXFSZ / EFBIG beyond). */
    fileSizeBytes: number;
    /** RLIMIT_NOFILE. */
    openFiles: number;
  };
  /**
   * Serve a listening TCP socket the caller created in the HOST network namespace and passes as
   * this file descriptor: a relay inside the sandbox accepts on it and connects to 127.0.0.1:`port`
   * in the sandbox's own network namespace. How frontline/sentinels reach an app that can reach nothing.
   */
  portBridge?: { fd: number; port: number };
  /**
   * Inside 127.0.0.1:`port` relayed to the unix socket `socket` (a sandbox path, mounted from the
   * host): the only way out of a build, to its filtering egress proxy.
   */
  egress?: { port: number; socket: string };
  /** Also mount these /etc files (e.g. resolv.conf for `host` network). */
  extraEtc?: string[];
  /** The relay script on the host (default: this package's copy; see {@link installBridge}). */
  bridgeScript?: string;
}

/** Where the in-sandbox relay script lives on the host (shipped with this package). */
export const bridgeScript = fileURLToPath(new URL("./inside/bridge.mjs", import.meta.url));
const bridgeInSandbox = "/run/ctrl/bridge.mjs";
const egressReady = "/tmp/.ctrl-egress-ready";

/** /etc entries a dynamically linked program, Node, TLS and name lookups need; never shadow or the host's secrets. */
const etcFiles = [
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "ssl",
  "ca-certificates",
  "ca-certificates.conf",
  "alternatives",
  "localtime",
  "nsswitch.conf",
  "host.conf",
  "gai.conf",
  "hosts",
  "passwd",
  "group",
  "mime.types",
  "os-release",
  "debian_version",
];
const rootDirs = ["bin", "sbin", "lib", "lib64", "lib32", "libx32"];

/** The lowest uid/gid handed to workloads: far above any system or human account. */
export const minWorkloadUid = 100_000;

/**
 * An unprivileged uid for a workload keyed by something unique among live workloads on this host
 * (an instance's host port is: two live instances never share one), so RLIMIT_NPROC — counted per
 * uid — bounds each workload alone. `base` keeps kinds apart (instances 100000+, builds 200000+).
 */
export function workloadUid(unique: number, base = minWorkloadUid): number {
  if (!Number.isInteger(unique) || unique < 0 || unique > 99_999)
    throw new RangeError(`workloadUid: ${unique} must be an integer in 0-99999`);
  return base + unique;
}

/**
 * The argv that runs `command` under `policy`: `prlimit` (limits) → `setpriv` (drop to the
 * workload's uid/gid, no supplementary groups) → `bwrap` (namespaces, mounts) → a tiny `sh` that
 * starts the relay if any and `exec`s the command. No `--die-with-parent` and no `--new-session`:
 * an instance outlives the agent that started it, and stays in the caller's process group so a
 * signal to the group reaches every process of it (the pid namespace ends with the command anyway).
 * The environment passes through unchanged (never on the command line, where /proc/*\/cmdline of
 * the host would show it); the relay itself runs with an empty environment.
 */
export function sandboxArgv(tools: SandboxTools, policy: SandboxPolicy, command: readonly string[]): string[] {
  if (!(policy.uid >= minWorkloadUid && policy.gid >= minWorkloadUid))
    throw new RangeError(`sandbox uid/gid ${policy.uid}/${policy.gid} must be >= ${minWorkloadUid} (never root, never a real account)`);
  if (command.length === 0) throw new RangeError("sandbox command is empty");
  const { limits } = policy;
  const argv: string[] = [
    tools.prlimit,
    `--nproc=${limits.processes}`,
    `--fsize=${limits.fileSizeBytes}`,
    `--nofile=${limits.openFiles}`,
    "--core=0",
    "--",
    tools.setpriv,
    `--reuid=${policy.uid}`,
    `--regid=${policy.gid}`,
    "--clear-groups",
    "--",
    tools.bwrap,
    // No nested user namespaces: inside one, a process holds every capability over its own
    // namespaces, which is the kernel attack surface most container escapes go through.
    "--unshare-user",
    "--disable-userns",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    ...(policy.network === "none" ? ["--unshare-net"] : []),
    "--hostname",
    "sandbox",
    "--uid",
    String(policy.uid),
    "--gid",
    String(policy.gid),
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const d of rootDirs) {
    const host = `/${d}`;
    const stat = lstatSafe(host);
    if (!stat) continue;
    if (stat.isSymbolicLink()) argv.push("--symlink", readlinkSync(host), host);
    else if (stat.isDirectory()) argv.push("--ro-bind", host, host);
  }
  for (const f of [...etcFiles, ...(policy.extraEtc ?? [])]) if (existsSync(`/etc/${f}`)) argv.push("--ro-bind", `/etc/${f}`, `/etc/${f}`);
  argv.push("--proc", "/proc", "--dev", "/dev");
  if (policy.tmpHostDir) argv.push("--bind", policy.tmpHostDir, "/tmp");
  else argv.push("--size", String(policy.tmpBytes), "--tmpfs", "/tmp");
  for (const m of policy.mounts) argv.push(m.writable ? "--bind" : "--ro-bind", m.host, m.sandbox);
  const relay = policy.portBridge ?? policy.egress;
  if (relay) argv.push("--ro-bind", policy.bridgeScript ?? bridgeScript, bridgeInSandbox);
  // The sandbox root is bwrap's own tmpfs: make it (and the /etc, /run it built) read-only; /tmp,
  // /proc, /dev and writable mounts are mounts of their own and stay as they are.
  argv.push("--remount-ro", "/", "--chdir", policy.cwd, "--");

  // $0 is a label; "$@" the command. Shell-made variables (PWD, SHLVL, OLDPWD, _) are dropped so
  // the workload sees exactly the environment it was given.
  const parts: string[] = [];
  if (policy.portBridge)
    parts.push(`env -i ${tools.node} ${bridgeInSandbox} serve-fd ${policy.portBridge.fd} ${policy.portBridge.port} </dev/null &`);
  if (policy.egress) {
    // The build's first command dials the proxy at once: wait (bounded, ~5 s) until the relay listens.
    parts.push(`rm -f ${egressReady};`);
    parts.push(
      `env -i ${tools.node} ${bridgeInSandbox} forward ${policy.egress.port} '${policy.egress.socket.replace(/'/g, "")}' ${egressReady} </dev/null &`,
    );
    parts.push(`n=0; while [ ! -e ${egressReady} ] && [ $n -lt 250 ]; do sleep 0.02; n=$((n+1)); done;`);
  }
  const closeFd = policy.portBridge ? ` ${policy.portBridge.fd}<&-` : "";
  parts.push(`exec env -u PWD -u OLDPWD -u SHLVL -u _ "$@"${closeFd}`);
  argv.push("/bin/sh", "-c", parts.join(" "), "ctrl-sandbox", ...command);
  return argv;
}

function lstatSafe(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
