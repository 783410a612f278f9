import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { HaltService, UpgradePlanService, type UpgradePlan } from "@ctrl/proto";
import { UsageError, type CliConfig, type PlansFlags } from "../args.js";
import { formatHalt } from "../halt-format.js";
import type { Output } from "../output.js";

function transport(config: CliConfig) {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${config.rootKey}`);
    return next(req);
  };
  return createConnectTransport({ baseUrl: config.apiUrl, httpVersion: "1.1", interceptors: [auth] });
}

/** The Connect UpgradePlanService client with the root key as bearer. */
export function upgradePlanClient(config: CliConfig): Client<typeof UpgradePlanService> {
  return createClient(UpgradePlanService, transport(config));
}

function planJson(p: UpgradePlan) {
  return {
    name: p.name,
    image: p.image,
    minHeight: p.minHeight > 0n ? Number(p.minHeight) : null,
    version: p.version,
    createdBy: p.createdBy,
  };
}

function planLine(p: UpgradePlan): string {
  return `${p.name.padEnd(20)} ${p.image}${p.minHeight > 0n ? `  (height ≥ ${p.minHeight})` : ""}  v${p.version}`;
}

/** `ctrl plans set|ls|rm`: the upgrade plans the halt supervisor deploys on an exit 70. */
export async function plansCommand(config: CliConfig, flags: PlansFlags, out: Output, env: NodeJS.ProcessEnv): Promise<number> {
  const projectId = flags.project ?? env.CTRL_PROJECT_ID?.trim();
  if (!projectId) throw new UsageError("plans needs --project ID (or CTRL_PROJECT_ID)");
  const client = upgradePlanClient(config);
  const scope = { projectId, environmentSlug: flags.env };
  switch (flags.action) {
    case "set": {
      const res = await client.setUpgradePlan({
        ...scope,
        name: flags.name!,
        image: flags.image!,
        ...(flags.minHeight !== undefined ? { minHeight: BigInt(flags.minHeight) } : {}),
      });
      const resumed = res.resumedDeploymentIds.length ? `\nresumed the halted ${res.resumedDeploymentIds.join(", ")}` : "";
      out.result(
        { plan: res.plan ? planJson(res.plan) : null, resumedDeploymentIds: res.resumedDeploymentIds },
        `set ${res.plan ? planLine(res.plan) : flags.name}${resumed}`,
      );
      return 0;
    }
    case "ls": {
      const { plans } = await client.listUpgradePlans(scope);
      out.result(plans.map(planJson), plans.length ? plans.map(planLine).join("\n") : `no upgrade plans in ${flags.env}`);
      return 0;
    }
    case "rm": {
      const { version } = await client.deleteUpgradePlan({ ...scope, name: flags.name! });
      out.result({ deleted: flags.name, version }, `deleted ${flags.name} (tombstone v${version})`);
      return 0;
    }
  }
}

/** `ctrl supervise ack <deployment-id>`: a person takes a halt over; the supervisor stops waiting. */
export async function superviseAckCommand(config: CliConfig, deploymentId: string, out: Output): Promise<number> {
  const { halt } = await createClient(HaltService, transport(config)).acknowledgeHalt({ deploymentId });
  out.result(
    { deploymentId, halt: halt ? { reason: halt.reason, state: halt.state, message: halt.message } : null },
    halt ? formatHalt(halt) : `acknowledged ${deploymentId}`,
  );
  return 0;
}
