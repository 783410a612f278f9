import type { ConnectError } from "@connectrpc/connect";
import { parseCliArgs, resolveConfig, usage, UsageError } from "./args.js";
import { createOutput, type Output } from "./output.js";

// Commands load their modules (Connect, protobuf, tar) on demand: `--help` and usage errors stay fast.

/**
 * Runs `ctrl` with `argv` (without node and the script) and returns the exit code: 0 success,
 * 1 a failed deployment or API error, 2 a usage error. Only this function reads `env`.
 */
// Long because it is the CLI's dispatch: one case per command.
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env, out?: Output): Promise<number> {
  const json = argv.includes("--json");
  const output = out ?? createOutput(json);
  const fail = (message: string, code: number) => {
    if (output.json) output.stdout.write(`${JSON.stringify({ error: message }, null, 2)}\n`);
    else output.stderr.write(`error: ${message}\n`);
    return code;
  };
  try {
    const parsed = parseCliArgs(argv);
    if (parsed.command === "help") {
      output.stdout.write(`${usage(parsed.topic)}\n`);
      return 0;
    }
    if (parsed.command === "version") {
      const version = (await import("./version.js")).cliVersion();
      output.result({ version, node: process.version }, `ctrl ${version} (node ${process.version})`);
      return 0;
    }
    if (parsed.command === "completion") {
      output.stdout.write((await import("./commands/completion.js")).completionScript(parsed.shell));
      return 0;
    }
    const config = resolveConfig(parsed.flags, env, (await import("./user-config.js")).readStoredLogin(env));
    const frontlinePort = env.CTRL_FRONTLINE_PORT && /^\d+$/.test(env.CTRL_FRONTLINE_PORT) ? Number(env.CTRL_FRONTLINE_PORT) : undefined;
    switch (parsed.command) {
      case "deploy": {
        const { deployCommand } = await import("./commands/deploy.js");
        return await deployCommand(
          config,
          parsed.dir,
          { ...parsed.flags, ...(parsed.flags.frontlinePort === undefined && frontlinePort ? { frontlinePort } : {}) },
          output,
          env,
        );
      }
      case "status": {
        const { statusCommand } = await import("./commands/status.js");
        return await statusCommand(config, parsed.deploymentId, output, frontlinePort);
      }
      case "list":
        return await (await import("./commands/list.js")).listCommand(config, parsed.flags, output, env);
      case "logs":
        if (parsed.flags.runtime)
          return await (await import("./commands/runtime-logs.js")).runtimeLogsCommand(
            config,
            parsed.deploymentId,
            { follow: parsed.flags.follow, ...parsed.flags.runtime },
            output,
          );
        return await (await import("./commands/logs.js")).logsCommand(config, parsed.deploymentId, parsed.flags.follow, output);
      case "login":
        return await (await import("./commands/login.js")).loginCommand(config, output, env);
      case "rollback":
        return await (await import("./commands/switch.js")).rollbackCommand(config, parsed.targetId, parsed.flags.source, output);
      case "promote":
        return await (await import("./commands/switch.js")).promoteCommand(config, parsed.deploymentId, output);
      case "fleet":
        return await (await import("./commands/fleet.js")).fleetCommand(config, parsed.action, parsed.flags, output);
      case "env":
        return await (await import("./commands/env-policy.js")).envPolicyCommand(config, parsed.action, parsed.flags, output, env);
      case "projects":
        return await (await import("./commands/projects.js")).projectsCommand(config, parsed.action, parsed.flags, output);
      case "environments":
        return await (await import("./commands/environments.js")).environmentsCommand(config, parsed.action, parsed.flags, output, env);
      case "keys":
        return await (await import("./commands/keys.js")).keysCommand(config, parsed.action, parsed.flags, output);
      case "rollout":
        return await (await import("./commands/rollout.js")).rolloutCommand(
          config,
          parsed.action,
          parsed.deploymentId,
          parsed.flags,
          output,
        );
      case "plans":
        return await (await import("./commands/halt.js")).plansCommand(config, parsed.flags, output, env);
      case "supervise":
        return await (await import("./commands/halt.js")).superviseAckCommand(config, parsed.deploymentId, output);
      case "vars":
        return await (await import("./commands/vars.js")).varsCommand(config, parsed.action, parsed.flags, output, env);
      case "domains":
        return await (await import("./commands/domains.js")).domainsCommand(
          config,
          parsed.action,
          parsed.domain,
          parsed.flags,
          output,
          env,
        );
      case "stop":
      case "start":
        return await (await import("./commands/cancel.js")).deploymentStateCommand(config, parsed.command, parsed.deploymentId, output);
      case "rm":
        return await (await import("./commands/cancel.js")).deleteCommand(config, parsed.deploymentId, output);
      case "cancel":
        return await (await import("./commands/cancel.js")).cancelCommand(config, parsed.deploymentId, parsed.flags, output);
    }
  } catch (err) {
    if (err instanceof UsageError) return fail(`${err.message}\n(run \`ctrl --help\` for usage)`, 2);
    const name = (err as Error).name;
    if (name === "ApiError") return fail((err as Error).message, 1);
    if (name === "ConnectError") {
      const e = err as ConnectError;
      return fail(`${e.code ? ConnectErrorCodeName(e) : "error"}: ${e.rawMessage}`, 1);
    }
    return fail((err as Error).message, 1);
  }
}

function ConnectErrorCodeName(err: ConnectError): string {
  // Connect's Code enum is numeric; its names in snake_case match the API's error codes.
  const names: Record<number, string> = {
    3: "invalid_argument",
    5: "not_found",
    6: "already_exists",
    7: "permission_denied",
    9: "failed_precondition",
    14: "unavailable",
    16: "unauthenticated",
    13: "internal",
    12: "unimplemented",
    4: "deadline_exceeded",
    1: "canceled",
  };
  return names[err.code] ?? `code ${err.code}`;
}
