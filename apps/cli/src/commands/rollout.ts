import { Code, ConnectError } from "@connectrpc/connect";
import type { Deployment, DeploymentRollout } from "@ctrl/proto";
import { isTerminalRollout, type RolloutState } from "@ctrl/rollout";
import type { CliConfig } from "../args.js";
import { deploymentClient } from "../client.js";
import { isTerminal } from "../format.js";
import type { Output } from "../output.js";
import type { RolloutAction, RolloutFlags } from "../rollout-args.js";
import { plainJson, renderDeploymentRollout } from "../rollout-format.js";

/** How often `rollout status --follow` reads the deployment. */
export const followPollMs = 500;

/** How many reads in a row `--follow` lets fail while ctrl-api is unreachable (a restart) before it gives up. */
export const followMaxFailures = 20;

const rolloutJson = (deploymentId: string, r: DeploymentRollout | undefined) =>
  r ? { deploymentId, ...(plainJson(r) as object) } : { deploymentId, rollout: null };

/** Exit code of a rollout's view: 1 when it failed or was rolled back, else 0. */
const exitCodeOf = (r: DeploymentRollout | undefined) => (r && (r.state === "failed" || r.state === "rolled_back") ? 1 : 0);

/** `ctrl rollout status|pause|resume|cancel <deployment-id>`. */
export async function rolloutCommand(
  config: CliConfig,
  action: RolloutAction,
  deploymentId: string,
  flags: RolloutFlags,
  out: Output,
): Promise<number> {
  const client = deploymentClient(config);
  const show = (r: DeploymentRollout | undefined) =>
    out.result(
      rolloutJson(deploymentId, r),
      r ? renderDeploymentRollout(deploymentId, r) : `deployment ${deploymentId} has no rollout yet`,
    );
  switch (action) {
    case "status": {
      if (!flags.follow) {
        const { deployment } = await client.getDeployment({ deploymentId });
        show(deployment?.rollout);
        return exitCodeOf(deployment?.rollout);
      }
      return exitCodeOf(await follow(config, deploymentId, out));
    }
    case "pause":
      show((await client.pauseRollout({ deploymentId })).rollout);
      return 0;
    case "resume":
      show((await client.resumeRollout({ deploymentId })).rollout);
      return 0;
    case "cancel":
      show((await client.cancelRollout({ deploymentId })).rollout);
      return 0;
  }
}

/**
 * Re-reads the deployment every {@link followPollMs} and prints the view whenever it changed (one
 * JSON document per line with --json) until the rollout is terminal, or the deployment finished
 * without one. An unreachable ctrl-api (a restart, a deploy of it) is retried, up to
 * {@link followMaxFailures} reads in a row.
 */
async function follow(config: CliConfig, deploymentId: string, out: Output): Promise<DeploymentRollout | undefined> {
  const client = deploymentClient(config);
  let last = "";
  let failures = 0;
  for (;;) {
    let deployment: Deployment | undefined;
    try {
      deployment = (await client.getDeployment({ deploymentId })).deployment;
      failures = 0;
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Unavailable || ++failures >= followMaxFailures) throw err;
      await new Promise((resolve) => setTimeout(resolve, followPollMs));
      continue;
    }
    const rollout = deployment?.rollout;
    const json = JSON.stringify(rolloutJson(deploymentId, rollout));
    if (json !== last) {
      last = json;
      if (out.json) out.stdout.write(`${json}\n`);
      else
        out.stdout.write(
          `${rollout ? renderDeploymentRollout(deploymentId, rollout) : `deployment ${deploymentId} has no rollout yet`}\n\n`,
        );
    }
    if (finished(deployment, rollout)) return rollout;
    await new Promise((resolve) => setTimeout(resolve, followPollMs));
  }
}

const finished = (deployment: Deployment | undefined, rollout: DeploymentRollout | undefined) =>
  rollout ? isTerminalRollout(rollout.state as RolloutState) : !deployment || isTerminal(deployment.status);
