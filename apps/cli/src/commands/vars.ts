import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DeploymentLifecycleService, VariableService } from "@ctrl/proto";
import { readFile } from "node:fs/promises";
import { UsageError, type CliConfig } from "../args.js";
import { parseDotEnv, type VarsAction, type VarsFlags } from "../lifecycle-args.js";
import type { Output } from "../output.js";

/** A Connect client of `service` with the configured key as bearer. */
export function connectClient<S extends DescService>(service: S, config: CliConfig): Client<S> {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${config.rootKey}`);
    return next(req);
  };
  return createClient(service, createConnectTransport({ baseUrl: config.apiUrl, httpVersion: "1.1", interceptors: [auth] }));
}

/**
 * `ctrl vars set|ls|unset`. JSON shapes: set `{projectId, environment, keys, liveDeploymentId,
 * takesEffect: "next_deployment", redeploy?: {deploymentId, sourceDeploymentId}}`; ls `{projectId,
 * environment, variables: [{key, updatedAt, value?}]}`; unset `{projectId, environment, removed, missing}`.
 */
export async function varsCommand(
  config: CliConfig,
  action: VarsAction,
  flags: VarsFlags,
  out: Output,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const projectId = flags.project ?? env.CTRL_PROJECT_ID?.trim();
  if (!projectId) throw new UsageError("missing the project: pass --project <project id> or set CTRL_PROJECT_ID");
  const where = { projectId, environmentSlug: flags.env };
  const variables = connectClient(VariableService, config);
  if (action === "ls") {
    const res = await variables.listVariables({ ...where, reveal: flags.reveal });
    const rows = res.variables.map((v) => ({
      key: v.key,
      updatedAt: Number(v.updatedAt),
      ...(v.value !== undefined ? { value: v.value } : {}),
    }));
    const width = Math.max(3, ...rows.map((r) => r.key.length));
    const text = rows.length
      ? [
          `${"KEY".padEnd(width)}  ${flags.reveal ? "VALUE" : "VALUE (--reveal to show)"}`,
          ...rows.map((r) => `${r.key.padEnd(width)}  ${r.value ?? "********"}`),
        ].join("\n")
      : `no variables in ${flags.env}`;
    out.result({ projectId, environment: flags.env, variables: rows }, text);
    return 0;
  }
  if (action === "unset") {
    const res = await variables.unsetVariables({ ...where, keys: flags.keys });
    out.result(
      { projectId, environment: flags.env, removed: res.removed, missing: res.missing },
      [
        res.removed.length ? `removed ${res.removed.join(", ")} from ${flags.env}` : `nothing removed from ${flags.env}`,
        ...(res.missing.length ? [`not set: ${res.missing.join(", ")}`] : []),
        ...(res.removed.length ? ["(running deployments keep their variables; the next deployment runs without them)"] : []),
      ].join("\n"),
    );
    return 0;
  }
  const fromFile = flags.file ? parseDotEnv(await readVarsFile(flags.file), flags.file) : [];
  // The command line wins over the file for a key given in both.
  const merged = new Map([...fromFile, ...flags.variables].map((v) => [v.key, v.value] as const));
  const res = await variables.setVariables({ ...where, variables: [...merged].map(([key, value]) => ({ key, value })) });
  const lines = [`set ${res.keys.join(", ")} in ${flags.env}`];
  let redeployed: { deploymentId: string; sourceDeploymentId: string } | undefined;
  if (flags.redeploy) {
    const r = await connectClient(DeploymentLifecycleService, config).redeploy({ ...where, deploymentId: "" });
    redeployed = { deploymentId: r.deploymentId, sourceDeploymentId: r.sourceDeploymentId };
    lines.push(`redeploying ${r.sourceDeploymentId} with the new values as ${r.deploymentId} (follow it: ctrl status ${r.deploymentId})`);
  } else if (res.liveDeploymentId) {
    lines.push(
      `takes effect on the next deployment: ${res.liveDeploymentId} keeps running with the old values (run again with --redeploy, or ctrl deploy)`,
    );
  } else {
    lines.push("takes effect on the next deployment");
  }
  out.result(
    {
      projectId,
      environment: flags.env,
      keys: res.keys,
      liveDeploymentId: res.liveDeploymentId || null,
      takesEffect: "next_deployment",
      ...(redeployed ? { redeploy: redeployed } : {}),
    },
    lines.join("\n"),
  );
  return 0;
}

async function readVarsFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
