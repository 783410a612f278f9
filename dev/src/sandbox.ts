import { findSandboxTools, SandboxUnavailableError } from "@ctrl/sandbox";

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
