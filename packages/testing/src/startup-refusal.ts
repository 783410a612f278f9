import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { startProcess } from "./process.js";

const require = createRequire(import.meta.url);

/**
 * Runs a service entry (`node --import tsx entry`) with exactly `env` (plus PATH and HOME) and
 * expects it to exit by itself within `timeoutMs` — e.g. because a required secret is missing.
 * Resolves with its exit code and output; if it is still running at the deadline it is killed and
 * the promise rejects (it started instead of refusing).
 */
export async function startupRefusal(
  entry: string,
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  const tsxLoader = pathToFileURL(require.resolve("tsx")).href;
  const proc = startProcess(`refusal:${entry}`, process.execPath, ["--import", tsxLoader, entry], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), options.timeoutMs ?? 30_000)));
  const outcome = await Promise.race([proc.exited, deadline]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    await proc.kill();
    throw new Error(`${entry} was still running after ${options.timeoutMs ?? 30_000} ms instead of refusing to start:\n${proc.tail()}`);
  }
  return { code: outcome.code, output: proc.tail(400) };
}
