import { buildSandboxTools, openBuildSandbox, type BuildSandbox } from "../isolation.js";
import { displayCommand, type BuildPlan } from "../plan.js";
import { sandboxEnv } from "../sandbox.js";
import { buildSteps } from "../steps.js";
import { runBuildCommand } from "./run-command.js";
import type { BuildSession } from "./session.js";

/**
 * Steps `install` and `compile` of the local builder: the plan's commands (each skipped when the
 * plan has none), inside a build sandbox unless BUILD_SANDBOX=none (warned in the log).
 */
export async function commandSteps(b: BuildSession, plan: BuildPlan): Promise<void> {
  const { config, job, reporter, dirs } = b;
  const envOptions = { npmRegistry: config.npmRegistry, ...(config.caFile ? { caFile: config.caFile } : {}) };
  let box: BuildSandbox | undefined;
  if (config.sandbox === "none") {
    reporter.log(buildSteps.extract, "warning: BUILD_SANDBOX=none — build commands run unsandboxed, as the worker's own user");
  } else if (plan.install !== undefined || plan.build !== undefined) {
    box = await openBuildSandbox(buildSandboxTools(), dirs, job.buildId, {
      ...envOptions,
      ...(config.sandboxLimits ? { limits: config.sandboxLimits } : {}),
      onRefused: (target, why) => reporter.log(b.current, `sandbox: refused a connection to ${target.slice(0, 300)}: ${why}`),
    });
  }
  const env = box?.env ?? sandboxEnv(dirs, envOptions);
  try {
    for (const [step, command, what] of [
      [buildSteps.install, plan.install, "no dependencies to install"],
      [buildSteps.compile, plan.build, "no build command"],
    ] as const) {
      if (command === undefined) {
        await reporter.step(step, "skipped", what);
        continue;
      }
      await b.open(step, displayCommand(command));
      await runBuildCommand(b, step, command, env, box);
      await reporter.step(step, "completed", `${displayCommand(command)} succeeded`);
    }
  } finally {
    await box?.close();
  }
}
