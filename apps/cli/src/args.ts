// Long because the CLI's one table of commands, flags and usage texts; each command's own parsing lives in its *-args.ts beside it.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { parseSince } from "./duration.js";
import {
  envOptions,
  parseEnvCommand,
  parseRolloutCommand,
  RolloutUsageError,
  rolloutOptions,
  rolloutUsage,
  type EnvPolicyFlags,
  type RolloutAction,
  type RolloutFlags,
} from "./rollout-args.js";
import {
  environmentOptions,
  keyOptions,
  parseEnvironmentCommand,
  parseKeysCommand,
  parseProjectsCommand,
  projectOptions,
  ResourceUsageError,
  resourceUsage,
  type EnvironmentAction,
  type EnvironmentFlags,
  type KeyAction,
  type KeyFlags,
  type ProjectAction,
  type ProjectFlags,
} from "./resource-args.js";
import {
  cancelOptions,
  domainsOptions,
  LifecycleUsageError,
  lifecycleUsage,
  parseCancelCommand,
  parseDomainsCommand,
  parseStateCommand,
  parseVarsCommand,
  varsOptions,
  type CancelFlags,
  type DomainsAction,
  type DomainsFlags,
  type VarsAction,
  type VarsFlags,
} from "./lifecycle-args.js";

/** The commands `ctrl` knows. */
export const commandNames = [
  "deploy",
  "status",
  "list",
  "logs",
  "rollback",
  "promote",
  "fleet",
  "env",
  "rollout",
  "projects",
  "keys",
  "plans",
  "supervise",
  "vars",
  "domains",
  "stop",
  "start",
  "rm",
  "cancel",
  "login",
  "completion",
  "help",
] as const;
export type CommandName = (typeof commandNames)[number];

/** A mistake in how `ctrl` was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Flags every command accepts. */
export interface GlobalFlags {
  apiUrl?: string;
  rootKey?: string;
  json: boolean;
  help: boolean;
}

/** `ctrl deploy [dir]` flags. */
export interface DeployFlags extends GlobalFlags {
  project?: string;
  /** `--env`, else `production`; with `envFromBranch` the deploy chooses it from the branch instead. */
  env: string;
  /** Set when `--env` was not given: the branch decides (see `chooseEnvironment` in commands/deploy.ts). */
  envFromBranch?: true;
  /** `--prod`: production whatever the branch. */
  prod?: true;
  branch?: string;
  image?: string;
  dockerfile?: string;
  wait: boolean;
  timeoutSeconds: number;
  /** Pack `.env` files too (left out, with a warning, by default). */
  includeEnv?: boolean;
  frontlinePort?: number;
}

/** A parsed command line. */
export type ParsedCommand =
  | { command: "help"; topic?: CommandName; flags: GlobalFlags }
  | { command: "version"; flags: GlobalFlags }
  | { command: "login"; flags: GlobalFlags }
  | { command: "completion"; shell: "bash" | "zsh"; flags: GlobalFlags }
  | { command: "deploy"; dir: string; flags: DeployFlags }
  | { command: "status"; deploymentId: string; flags: GlobalFlags }
  | { command: "list"; flags: GlobalFlags & { project?: string; env?: string; limit: number } }
  | { command: "logs"; deploymentId: string; flags: GlobalFlags & { follow: boolean; runtime?: RuntimeLogFlags } }
  | { command: "rollback"; targetId: string; flags: GlobalFlags & { source?: string } }
  | { command: "promote"; deploymentId: string; flags: GlobalFlags }
  | { command: "fleet"; action: FleetAction; flags: FleetFlags }
  | { command: "env"; action: "get" | "set"; flags: EnvPolicyFlags }
  | { command: "rollout"; action: RolloutAction; deploymentId: string; flags: RolloutFlags }
  | { command: "projects"; action: ProjectAction; flags: ProjectFlags }
  | { command: "environments"; action: EnvironmentAction; flags: EnvironmentFlags }
  | { command: "keys"; action: KeyAction; flags: KeyFlags }
  | { command: "plans"; flags: PlansFlags }
  | { command: "supervise"; deploymentId: string; flags: GlobalFlags }
  | { command: "vars"; action: VarsAction; flags: VarsFlags }
  | { command: "domains"; action: DomainsAction; domain?: string; flags: DomainsFlags }
  | { command: "stop" | "start" | "rm"; deploymentId: string; flags: GlobalFlags }
  | { command: "cancel"; deploymentId: string; flags: CancelFlags };

/** `ctrl plans set|ls|rm` flags (upgrade plans of the halt supervisor). */
export interface PlansFlags extends GlobalFlags {
  action: "set" | "ls" | "rm";
  name?: string;
  project?: string;
  env: string;
  image?: string;
  minHeight?: number;
}

/** `ctrl logs --runtime` flags (see commands/runtime-logs.ts). */
export interface RuntimeLogFlags {
  since?: number;
  instance?: string;
  tail: number;
}

/** `ctrl fleet <action>`: fleet rollouts of the sentinel image. */
export const fleetActions = ["rollout", "status", "pause", "resume", "cancel", "rollback", "history"] as const;
export type FleetAction = (typeof fleetActions)[number];

/** `ctrl fleet …` flags. */
export interface FleetFlags extends GlobalFlags {
  image?: string;
  waves?: number[];
  webhook?: string;
  concurrency?: number;
  follow: boolean;
  retryFailed: boolean;
  rolloutId?: string;
  limit: number;
}

/** Flags every command accepts (also what shell completion offers). */
export const globalOptions = {
  "api-url": { type: "string" },
  "root-key": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsConfig["options"];

/** Each command's own flags (also what shell completion offers). */
export const commandOptions = {
  deploy: {
    project: { type: "string", short: "p" },
    env: { type: "string", short: "e" },
    prod: { type: "boolean", default: false },
    branch: { type: "string", short: "b" },
    image: { type: "string" },
    dockerfile: { type: "string" },
    "no-wait": { type: "boolean", default: false },
    timeout: { type: "string" },
    "frontline-port": { type: "string" },
    "include-env": { type: "boolean", default: false },
  },
  status: {},
  list: { project: { type: "string", short: "p" }, env: { type: "string", short: "e" }, limit: { type: "string" } },
  logs: {
    follow: { type: "boolean", short: "f", default: false },
    runtime: { type: "boolean", default: false },
    since: { type: "string" },
    instance: { type: "string" },
    tail: { type: "string" },
  },
  rollback: { source: { type: "string" } },
  promote: {},
  fleet: {
    image: { type: "string" },
    waves: { type: "string" },
    webhook: { type: "string" },
    concurrency: { type: "string" },
    follow: { type: "boolean", short: "f", default: false },
    "retry-failed": { type: "boolean", default: false },
    rollout: { type: "string" },
    limit: { type: "string" },
  },
  env: { ...envOptions, ...environmentOptions },
  rollout: rolloutOptions,
  projects: projectOptions,
  keys: keyOptions,
  plans: {
    project: { type: "string", short: "p" },
    env: { type: "string", short: "e" },
    image: { type: "string" },
    "min-height": { type: "string" },
  },
  supervise: {},
  vars: varsOptions,
  domains: domainsOptions,
  stop: {},
  start: {},
  rm: {},
  cancel: cancelOptions,
  login: {},
  completion: {},
  help: {},
} as const satisfies Record<CommandName, ParseArgsConfig["options"]>;

/** The usage text of `ctrl` or of one command. */
export function usage(command?: CommandName): string {
  const common = "Common flags: --api-url URL (or CTRL_API_URL), --root-key KEY (or CTRL_ROOT_KEY), --json, -h/--help";
  const lines: Record<CommandName, string> = {
    deploy:
      "ctrl deploy [dir] --project ID [--env SLUG | --prod] [--branch NAME] [--image REF] [--dockerfile PATH] [--no-wait] [--timeout SECONDS] [--frontline-port PORT] [--include-env]\n  Checks the key, project and environment, packs dir (default .) honouring .gitignore and .ctrlignore (.env files only with --include-env), uploads it, creates a deployment and follows it until ready or failed.\n  Without --env, the project's default branch deploys to production and any other branch to preview (--prod: production).\n  With --image REF, deploys that image or artifact reference instead of building.",
    status:
      "ctrl status <deployment-id>\n  Shows a deployment: status, steps, hostnames, error, and its rollout (ROLLOUT and CTRL columns).",
    list: "ctrl list --project ID (or CTRL_PROJECT_ID) [--env SLUG] [--limit N]\n  Lists a project's deployments, newest first.",
    logs:
      "ctrl logs <deployment-id> [--follow]\n  Prints the build log; --follow keeps printing until the deployment finishes.\n" +
      "ctrl logs <deployment-id> --runtime [--follow] [--since 10m|ISO-TIME] [--instance NAME] [--tail N]\n" +
      "  Prints what the deployment's instances printed (stdout and stderr; the last 100 lines unless --since or --tail),\n" +
      "  kept after they exit; --follow keeps printing new lines until Ctrl-C; --json prints one object per line.",
    rollback:
      "ctrl rollback <target-deployment-id> [--source ID]\n  Points the live and environment domains back at the target (an earlier ready deployment) and pins the project.\n  The source defaults to the deployment currently serving the target's environment.",
    promote: "ctrl promote <deployment-id>\n  Points the live and environment domains at the deployment and clears the rollback pin.",
    fleet:
      "ctrl fleet rollout --image REF [--waves 1,5,25,50,100] [--webhook URL] [--concurrency N] [--follow]\n" +
      "ctrl fleet status [--rollout ID] [--follow] | pause | resume [--retry-failed] | cancel | rollback | history [--limit N]\n" +
      "  Rolls a new sentinel image across every sentinel in waves of cumulative percentages (operators only:\n" +
      "  the operator credential or a root key with fleet.*.rollout as --root-key). status --follow shows each wave live.",
    ...rolloutUsage,
    env: `${rolloutUsage.env}\n${resourceUsage.envResources}`,
    projects: resourceUsage.projects,
    keys: resourceUsage.keys,
    plans:
      "ctrl plans set NAME --image REF [--min-height N] [--env production] --project ID | ls | rm NAME\n" +
      "  Upgrade plans: what the halt supervisor deploys when a workload exits 70 naming plan NAME (docs/halt-contract.md).",
    supervise: "ctrl supervise ack <deployment-id>\n  Takes a halted deployment over: the supervisor stops waiting and resolves the page.",
    ...lifecycleUsage,
    login:
      "ctrl login --api-url URL --root-key KEY\n  Checks the key against ctrl-api and stores both in $XDG_CONFIG_HOME/ctrl/config.json (~/.config/ctrl; mode 0600).\n" +
      "  Later commands use them; --api-url/--root-key and CTRL_API_URL/CTRL_ROOT_KEY still win.",
    completion:
      'ctrl completion bash|zsh\n  Prints a completion script: `source <(ctrl completion bash)` in ~/.bashrc, or `ctrl completion zsh > "${fpath[1]}/_ctrl"`.',
    help: "ctrl help [command]   (ctrl --version prints the version)",
  };
  if (command) return `${lines[command]}\n${common}`;
  return `ctrl — deploy a directory and follow it to a live URL\n\n${commandNames
    .filter((c) => c !== "help")
    .map((c) => lines[c])
    .join("\n\n")}\n\n${common}`;
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
  return Number(value);
}

function one(positionals: string[], what: string, command: CommandName, optional = false): string | undefined {
  if (positionals.length > 1) throw new UsageError(`${command} takes one ${what}, got ${positionals.length}: ${positionals.join(" ")}`);
  const value = positionals[0];
  if (!optional && (value === undefined || value.trim() === ""))
    throw new UsageError(`${command} needs a ${what}: ${usage(command).split("\n")[0]}`);
  return value;
}

/** Parses `ctrl <command> [args] [flags]`; throws {@link UsageError} naming what is wrong. */
export function parseCliArgs(argv: string[]): ParsedCommand {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h") return { command: "help", flags: { json: false, help: true } };
  if (first === "--version" || first === "-V" || first === "version")
    return { command: "version", flags: { json: argv.includes("--json"), help: false } };
  if (!(commandNames as readonly string[]).includes(first)) {
    throw new UsageError(`unknown command "${first}": expected one of ${commandNames.join(", ")}`);
  }
  const command = first as CommandName;
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by the parseArgs call it is assigned from
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...globalOptions, ...commandOptions[command] }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message.replace(/\. To specify a positional argument.*$/s, "")}`);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const str = (name: string) => {
    const value = v[name];
    if (typeof value !== "string") return undefined;
    if (value.trim() === "") throw new UsageError(`--${name} must not be empty`);
    return value.trim();
  };
  const flags: GlobalFlags = {
    json: v.json === true,
    help: v.help === true,
    ...(str("api-url") ? { apiUrl: str("api-url") } : {}),
    ...(str("root-key") ? { rootKey: str("root-key") } : {}),
  };
  const pos = parsed.positionals;
  if (flags.help || command === "help") {
    const topic = command === "help" ? pos[0] : command;
    if (topic !== undefined && !(commandNames as readonly string[]).includes(topic)) throw new UsageError(`unknown command "${topic}"`);
    return { command: "help", ...(topic ? { topic: topic as CommandName } : {}), flags };
  }
  try {
    return parseCommand(command, pos, v, flags, str);
  } catch (err) {
    if (err instanceof RolloutUsageError || err instanceof ResourceUsageError || err instanceof LifecycleUsageError)
      throw new UsageError(err.message);
    throw err;
  }
}

function parseCommand(
  command: Exclude<CommandName, "help">,
  pos: string[],
  v: Record<string, string | boolean | undefined>,
  flags: GlobalFlags,
  str: (name: string) => string | undefined,
): ParsedCommand {
  switch (command) {
    case "env":
      if (pos[0] === "policy" || pos[0] === undefined) return { command, ...parseEnvCommand(pos, v, flags) };
      if (!["create", "ls", "update", "rm"].includes(pos[0]))
        throw new UsageError(`unknown env action "${pos[0]}": expected policy, create, ls, update or rm`);
      return { command: "environments", ...parseEnvironmentCommand(pos, v, flags) };
    case "projects":
      return { command, ...parseProjectsCommand(pos, v, flags) };
    case "keys":
      return { command, ...parseKeysCommand(pos, v, flags, Date.now()) };
    case "rollout":
      return { command, ...parseRolloutCommand(pos, v, flags) };
    case "vars":
      return { command, ...parseVarsCommand(pos, v, flags) };
    case "domains":
      return { command, ...parseDomainsCommand(pos, v, flags) };
    case "stop":
    case "start":
    case "rm":
      return { command, deploymentId: parseStateCommand(command, pos), flags };
    case "cancel":
      return { command, ...parseCancelCommand(pos, v, flags) };
    case "deploy":
      return deployCommand(pos, flags, v, str);
    case "status":
      return { command, deploymentId: one(pos, "deployment id", command)!, flags };
    case "list":
      if (pos.length) throw new UsageError(`list takes no arguments, got: ${pos.join(" ")}`);
      return {
        command,
        flags: {
          ...flags,
          ...(str("project") ? { project: str("project") } : {}),
          ...(str("env") ? { env: str("env") } : {}),
          limit: positiveInt(str("limit"), "--limit", 20),
        },
      };
    case "logs":
      for (const flag of ["since", "instance", "tail"])
        if (v.runtime !== true && str(flag) !== undefined)
          throw new UsageError(`--${flag} works only with --runtime (the instances' output)`);
      return {
        command,
        deploymentId: one(pos, "deployment id", command)!,
        flags: { ...flags, follow: v.follow === true, ...(v.runtime === true ? { runtime: runtimeLogFlags(str) } : {}) },
      };
    case "login":
      if (pos.length) throw new UsageError(`login takes no arguments (use --api-url and --root-key), got: ${pos.join(" ")}`);
      return { command, flags };
    case "completion": {
      const shell = one(pos, "shell (bash or zsh)", command)!;
      if (shell !== "bash" && shell !== "zsh") throw new UsageError(`completion supports bash and zsh, not "${shell}"`);
      return { command, shell, flags };
    }
    case "rollback":
      return {
        command,
        targetId: one(pos, "target deployment id", command)!,
        flags: { ...flags, ...(str("source") ? { source: str("source") } : {}) },
      };
    case "promote":
      return { command, deploymentId: one(pos, "deployment id", command)!, flags };
    case "fleet":
      return fleetCommand(pos, flags, v, str);
    case "plans":
      return { command, flags: parsePlans(pos, flags, str) };
    case "supervise": {
      if (pos[0] !== "ack" || pos.length !== 2) throw new UsageError(`supervise needs: ${usage("supervise").split("\n")[0]}`);
      return { command, deploymentId: pos[1]!, flags };
    }
  }
}

function parsePlans(pos: string[], flags: GlobalFlags, str: (name: string) => string | undefined): PlansFlags {
  const [action, name, ...extra] = pos;
  if (action !== "set" && action !== "ls" && action !== "rm")
    throw new UsageError(`plans needs set, ls or rm: ${usage("plans").split("\n")[0]}`);
  if (extra.length || (action === "ls" && name !== undefined))
    throw new UsageError(`plans ${action} takes ${action === "ls" ? "no" : "one"} name`);
  if (action !== "ls" && !name) throw new UsageError(`plans ${action} needs a plan NAME`);
  if (action === "set" && !str("image")) throw new UsageError("plans set needs --image REF");
  const minHeight = str("min-height");
  if (minHeight !== undefined && !/^\d+$/.test(minHeight)) throw new UsageError(`--min-height must be a whole number, got "${minHeight}"`);
  return {
    ...flags,
    action,
    ...(name ? { name } : {}),
    ...(str("project") ? { project: str("project") } : {}),
    env: str("env") ?? "production",
    ...(str("image") ? { image: str("image") } : {}),
    ...(minHeight !== undefined ? { minHeight: Number(minHeight) } : {}),
  };
}

/** Where the CLI talks to and with which key. */
export interface CliConfig {
  apiUrl: string;
  rootKey: string;
}

/**
 * Resolves the API URL and root key from flags, then the environment (`CTRL_API_URL`,
 * `CTRL_ROOT_KEY`); throws a {@link UsageError} naming every missing one and how to set it.
 */
export function resolveConfig(flags: GlobalFlags, env: NodeJS.ProcessEnv, stored?: { apiUrl: string; rootKey: string }): CliConfig {
  // Flags, then the environment, then what `ctrl login` stored.
  const apiUrl = flags.apiUrl ?? (env.CTRL_API_URL?.trim() || stored?.apiUrl);
  const rootKey = flags.rootKey ?? (env.CTRL_ROOT_KEY?.trim() || stored?.rootKey);
  const missing: string[] = [];
  if (!apiUrl) missing.push("the API URL (--api-url or CTRL_API_URL, e.g. http://127.0.0.1:7070)");
  if (!rootKey) missing.push("a root key (--root-key or CTRL_ROOT_KEY; the local stack prints one at start)");
  if (missing.length) throw new UsageError(`missing ${missing.join(" and ")} (or run \`ctrl login\` once)`);
  let url: URL;
  try {
    url = new URL(apiUrl!);
  } catch {
    throw new UsageError(`the API URL "${apiUrl}" is not a URL (expected e.g. http://127.0.0.1:7070)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`the API URL "${apiUrl}" must be http:// or https://`);
  return { apiUrl: url.toString().replace(/\/$/, ""), rootKey: rootKey! };
}

/** Flag values as `parseArgs` returns them. */
type FlagValues = Record<string, string | boolean | undefined>;
/** A string flag trimmed, undefined when absent (an empty one is a usage error). */
type StringFlag = (name: string) => string | undefined;

/** `ctrl deploy [dir]`: the directory (default `.`) and the deploy flags. */
function deployCommand(pos: string[], flags: GlobalFlags, v: FlagValues, str: StringFlag): ParsedCommand {
  const command = "deploy";
  const dir = one(pos, "directory", command, true) ?? ".";
  const frontlinePort = str("frontline-port");
  return {
    command,
    dir,
    flags: {
      ...flags,
      ...(str("project") ? { project: str("project") } : {}),
      env: str("env") ?? "production",
      ...(str("env") ? {} : { envFromBranch: true as const }),
      ...(v.prod === true ? { prod: true as const } : {}),
      ...(str("branch") ? { branch: str("branch") } : {}),
      ...(str("image") ? { image: str("image") } : {}),
      ...(str("dockerfile") ? { dockerfile: str("dockerfile") } : {}),
      wait: v["no-wait"] !== true,
      ...(v["include-env"] === true ? { includeEnv: true } : {}),
      timeoutSeconds: positiveInt(str("timeout"), "--timeout", 900),
      ...(frontlinePort !== undefined ? { frontlinePort: positiveInt(frontlinePort, "--frontline-port", 0) } : {}),
    },
  };
}

/** `ctrl fleet <action>`: the action and the rollout flags (`--waves` as whole percentages). */
function fleetCommand(pos: string[], flags: GlobalFlags, v: FlagValues, str: StringFlag): ParsedCommand {
  const command = "fleet";
  const action = one(pos, `action (${fleetActions.join(", ")})`, command)!;
  if (!(fleetActions as readonly string[]).includes(action))
    throw new UsageError(`unknown fleet action "${action}": expected one of ${fleetActions.join(", ")}`);
  const wavesText = str("waves");
  let waves: number[] | undefined;
  if (wavesText !== undefined) {
    const parts = wavesText.split(",").map((p) => p.trim());
    if (parts.some((p) => !/^\d+$/.test(p)))
      throw new UsageError(`--waves must be comma-separated whole percentages, e.g. 1,5,25,50,100 (got "${wavesText}")`);
    waves = parts.map(Number);
  }
  if (action === "rollout" && !str("image")) throw new UsageError("fleet rollout needs --image REF");
  const concurrency = str("concurrency");
  return {
    command,
    action: action as FleetAction,
    flags: {
      ...flags,
      ...(str("image") ? { image: str("image") } : {}),
      ...(waves ? { waves } : {}),
      ...(str("webhook") ? { webhook: str("webhook") } : {}),
      ...(concurrency !== undefined ? { concurrency: positiveInt(concurrency, "--concurrency", 10) } : {}),
      follow: v.follow === true,
      retryFailed: v["retry-failed"] === true,
      ...(str("rollout") ? { rolloutId: str("rollout") } : {}),
      limit: positiveInt(str("limit"), "--limit", 20),
    },
  };
}

/** `--since`, `--instance` and `--tail` of `ctrl logs --runtime`. */
function runtimeLogFlags(str: (name: string) => string | undefined, now = Date.now()): RuntimeLogFlags {
  const sinceText = str("since");
  const since = sinceText === undefined ? undefined : parseSince(sinceText, now);
  if (sinceText !== undefined && since === undefined)
    throw new UsageError(`--since "${sinceText}" is neither a duration (90s, 10m, 2h, 1d) nor an ISO time (2026-01-02T03:04:05Z)`);
  return {
    ...(since !== undefined ? { since } : {}),
    ...(str("instance") ? { instance: str("instance") } : {}),
    tail: Math.min(positiveInt(str("tail"), "--tail", 100), 5_000),
  };
}
