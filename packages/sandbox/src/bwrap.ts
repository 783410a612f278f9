import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

/** The one command that installs the sandbox tool on Debian/Ubuntu (what every error names). */
export const installHint = "apt-get install -y bubblewrap";

/** The sandbox tool is missing or cannot run: tenant code must not start. */
export class SandboxUnavailableError extends Error {
  constructor(detail: string, optOut: string) {
    super(
      `${detail}; tenant code runs only inside bubblewrap. Install it with \`${installHint}\`, or set ${optOut} to run tenant code unsandboxed (trusted single-user machines only)`,
    );
    this.name = "SandboxUnavailableError";
  }
}

/** The host tools a sandbox launch needs, found once at start. */
export interface SandboxTools {
  bwrap: string;
  /** util-linux: sets RLIMIT_NPROC / RLIMIT_FSIZE on the launch chain. */
  prlimit: string;
  /** util-linux: drops to the workload's uid/gid before bwrap runs (bwrap then runs unprivileged). */
  setpriv: string;
  /** The Node binary the in-sandbox bridge runs on (must live under /usr, which is mounted). */
  node: string;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `which`, without a shell: the absolute path of an executable on PATH, or undefined. */
export function which(name: string, path = process.env.PATH ?? "/usr/bin:/bin"): string | undefined {
  for (const dir of path.split(":").filter(Boolean)) {
    const candidate = `${dir}/${name}`;
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds bwrap, prlimit, setpriv and node and checks that bwrap can create its namespaces here
 * (a one-off `bwrap … true` as an unprivileged uid). Throws {@link SandboxUnavailableError} naming
 * what is missing and how to install it; `optOut` names the variable that disables the sandbox.
 */
export function findSandboxTools(optOut: string, path?: string): SandboxTools {
  const bwrap = which("bwrap", path);
  if (!bwrap) throw new SandboxUnavailableError("bubblewrap (bwrap) is not installed", optOut);
  const prlimit = which("prlimit", path);
  const setpriv = which("setpriv", path);
  if (!prlimit || !setpriv)
    throw new SandboxUnavailableError(`util-linux's ${prlimit ? "setpriv" : "prlimit"} is missing (apt-get install -y util-linux)`, optOut);
  const node = ["/usr/bin/node", "/usr/local/bin/node"].find(isExecutable);
  if (!node)
    throw new SandboxUnavailableError(
      "no Node binary under /usr (/usr/bin/node or /usr/local/bin/node) for the in-sandbox port bridge",
      optOut,
    );
  try {
    execFileSync(
      setpriv,
      [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
        bwrap,
        "--unshare-all",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/bin",
        "/bin",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--",
        "/usr/bin/true",
      ],
      { stdio: "pipe", timeout: 10_000 },
    );
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim();
    throw new SandboxUnavailableError(
      `bwrap cannot create namespaces here (${stderr || (err as Error).message}); user namespaces must be enabled (sysctl user.max_user_namespaces > 0)`,
      optOut,
    );
  }
  return { bwrap, prlimit, setpriv, node };
}
