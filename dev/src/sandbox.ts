import { findSandboxTools, reachableByWorkloads, SandboxUnavailableError } from "@ctrl/sandbox";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Why `pnpm dev` cannot run tenant code sandboxed, or undefined when it can. The local stack's
 * krane agent and builder run every instance and build step in bubblewrap; without it they would
 * refuse, so the stack stops before starting anything (like it does without MariaDB).
 * `KRANE_SANDBOX=none` (trusted single-user laptops) skips the check.
 */
export function sandboxProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KRANE_SANDBOX === "none") return undefined;
  try {
    findSandboxTools("KRANE_SANDBOX=none", env.PATH);
    return undefined;
  } catch (err) {
    if (!(err instanceof SandboxUnavailableError)) throw err;
    return [
      "bubblewrap (bwrap) is needed: the local stack runs every build step and every deployed app in its sandbox.",
      `  • install it (Debian/Ubuntu):   sudo apt-get install -y bubblewrap`,
      `  • details: ${err.message}`,
      "Then run `pnpm dev` again.",
    ].join("\n");
  }
}

/**
 * Where the local krane agent keeps its data. Sandboxed instances run as their own unprivileged uid,
 * which must be able to walk to their artifact: `<dataDir>/krane` when every directory above it is
 * searchable (the data dir itself is made 0711: searchable, not listable), else — a checkout under a
 * private home such as /root — a directory of its own under /var/tmp, named after the data dir.
 */
export function kraneDataDirFor(dataDir: string, sandbox: "bwrap" | "none"): { dir: string; note?: string } {
  const inside = join(dataDir, "krane");
  if (sandbox === "none") return { dir: inside };
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o711);
  const tools = findSandboxTools("KRANE_SANDBOX=none");
  if (reachableByWorkloads(tools.setpriv, dataDir)) return { dir: inside };
  const outside = join("/var/tmp", `ctrl-dev-${createHash("sha256").update(dataDir).digest("hex").slice(0, 12)}`, "krane");
  mkdirSync(outside, { recursive: true });
  chmodSync(dirname(outside), 0o711);
  return {
    dir: outside,
    note: `${dataDir} is not reachable by the sandboxes' unprivileged uids (a parent directory lacks o+x): krane keeps its data in ${outside}`,
  };
}
