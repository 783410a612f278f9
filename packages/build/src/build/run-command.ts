import { BuildError } from "../errors.js";
import type { BuildSandbox } from "../isolation.js";
import { displayCommand, type Command } from "../plan.js";
import { runCommand } from "../runner.js";
import type { BuildStepName } from "../steps.js";
import type { BuildSession } from "./session.js";

/**
 * Runs one build command of `step` within what is left of the build's deadline (in `box` when
 * sandboxed), logging its output; a timeout or a non-zero exit is a {@link BuildError} quoting the
 * last log lines.
 */
export async function runBuildCommand(
  b: BuildSession,
  step: BuildStepName,
  command: Command,
  env: Record<string, string>,
  box?: BuildSandbox,
): Promise<void> {
  const { config, reporter } = b;
  const shown = displayCommand(command);
  const remaining = b.deadline - Date.now();
  const limitText = `the build timeout of ${Math.round(config.timeoutMs / 1000)} s (BUILD_TIMEOUT_SECONDS)`;
  if (remaining <= 0) throw new BuildError(step, "build_timeout", `"${shown}" did not start: ${limitText} had passed`);
  reporter.log(step, `$ ${shown}`);
  const result = await runCommand(command, {
    cwd: b.dirs.app,
    env,
    timeoutMs: remaining,
    onLine: (line) => reporter.log(step, line),
    tailLines: config.logTailLines ?? 20,
    ...(box ? { wrap: box.wrap } : {}),
  });
  const tail = result.tail.length ? `; last ${result.tail.length} log lines:\n${result.tail.join("\n")}` : "; it printed nothing";
  if (result.timedOut) throw new BuildError(step, "build_timeout", `"${shown}" did not finish within ${limitText}${tail}`);
  if (result.exitCode !== 0) {
    const how = result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    throw new BuildError(step, "build_failed", `"${shown}" ${how}${tail}`);
  }
}
