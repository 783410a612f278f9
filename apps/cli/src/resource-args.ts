import type { ParseArgsConfig } from "node:util";
import type { GlobalFlags } from "./args.js";

/** A mistake in how a resource command was called (args.ts turns it into a UsageError, exit 2). */
export class ResourceUsageError extends Error {}

/** `ctrl projects <action>`. */
export const projectActions = ["create", "ls", "get", "update", "rm"] as const;
export type ProjectAction = (typeof projectActions)[number];

/** `ctrl env <action>` besides `policy`. */
export const environmentActions = ["create", "ls", "update", "rm"] as const;
export type EnvironmentAction = (typeof environmentActions)[number];

/** `ctrl keys <action>`. */
export const keyActions = ["create", "ls", "revoke"] as const;
export type KeyAction = (typeof keyActions)[number];

/** `ctrl projects …` flags; `target` is the slug (create) or project id (get, update, rm). */
export interface ProjectFlags extends GlobalFlags {
  target?: string;
  name?: string;
  defaultBranch?: string;
  force: boolean;
}

/** Environment settings as flags (absent = unchanged on update; 0 / "" = the default). */
export interface EnvironmentSettingFlags {
  regions?: string[];
  replicas?: number;
  cpuMillicores?: number;
  memoryMib?: number;
  healthCheckPath?: string;
}

/** `ctrl env create|ls|update|rm` flags; `slug` is the environment (create, update, rm). */
export interface EnvironmentFlags extends GlobalFlags {
  project?: string;
  slug?: string;
  settings: EnvironmentSettingFlags;
}

/** `ctrl keys …` flags. */
export interface KeyFlags extends GlobalFlags {
  keyId?: string;
  name?: string;
  permissions: string[];
  /** Unix milliseconds, from `--expires 30d` or an ISO date. */
  expiresAt?: number;
}

/** parseArgs options of `ctrl projects`. */
export const projectOptions = {
  name: { type: "string" },
  "default-branch": { type: "string" },
  force: { type: "boolean", default: false },
} as const satisfies ParseArgsConfig["options"];

/** parseArgs options `ctrl env create|update` adds to `ctrl env policy`'s. */
export const environmentOptions = {
  regions: { type: "string" },
  replicas: { type: "string" },
  cpu: { type: "string" },
  memory: { type: "string" },
  "health-path": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** parseArgs options of `ctrl keys`. */
export const keyOptions = {
  name: { type: "string" },
  permission: { type: "string", multiple: true },
  expires: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** Usage lines. */
export const resourceUsage = {
  projects:
    "ctrl projects create <slug> [--name NAME] [--default-branch main] | ls | get <project-id>\n" +
    "ctrl projects update <project-id> [--name NAME] [--default-branch BRANCH] | rm <project-id> [--force]\n" +
    "  A new project gets the environments production and preview. rm refuses while deployments run;\n" +
    "  --force cancels deploys in progress and stops running deployments first.",
  envResources:
    "ctrl env create <slug> | update <slug> [--project ID] [--regions a,b] [--replicas N] [--cpu MILLICORES] [--memory MIB] [--health-path /health]\n" +
    "ctrl env ls [--project ID] | rm <slug> [--project ID]\n" +
    "  Settings apply to the next deployment of the environment; 0 (or an empty value) means the default.",
  keys:
    "ctrl keys create --name NAME --permission P [--permission P …] [--expires 30d|2027-01-01] | ls | revoke <key-id>\n" +
    "  Permissions: project.<id|*>.<action|*> and workspace.<create_project|manage_keys|*>. The secret is shown once.",
};

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function strOf(values: Values) {
  return (name: string): string | undefined => {
    const value = values[name];
    if (typeof value !== "string") return undefined;
    if (value.trim() === "") throw new ResourceUsageError(`--${name} must not be empty`);
    return value.trim();
  };
}

function actionOf<A extends string>(command: string, positionals: string[], actions: readonly A[]): A {
  const action = positionals[0];
  if (action === undefined) throw new ResourceUsageError(`${command} needs an action: ${actions.join(", ")}`);
  if (!(actions as readonly string[]).includes(action))
    throw new ResourceUsageError(`unknown ${command} action "${action}": expected one of ${actions.join(", ")}`);
  return action as A;
}

function argument(positionals: string[], what: string, usage: string, required: boolean): string | undefined {
  const rest = positionals.slice(1);
  if (rest.length > 1) throw new ResourceUsageError(`${usage} takes one ${what}, got ${rest.length}: ${rest.join(" ")}`);
  if (required && !rest[0]?.trim()) throw new ResourceUsageError(`${usage} needs a ${what}`);
  if (!required && rest.length) throw new ResourceUsageError(`${usage} takes no arguments, got: ${rest.join(" ")}`);
  return rest[0]?.trim();
}

/** Parses `ctrl projects <action> …`. */
export function parseProjectsCommand(
  positionals: string[],
  values: Values,
  flags: GlobalFlags,
): { action: ProjectAction; flags: ProjectFlags } {
  const action = actionOf("projects", positionals, projectActions);
  const str = strOf(values);
  const what = action === "create" ? "project slug" : "project id";
  const target = argument(positionals, what, `projects ${action}`, action !== "ls");
  if (values.force === true && action !== "rm") throw new ResourceUsageError("--force is only for projects rm");
  if ((str("name") || str("default-branch")) && action !== "create" && action !== "update")
    throw new ResourceUsageError(`projects ${action} takes no --name or --default-branch`);
  if (action === "update" && !str("name") && !str("default-branch"))
    throw new ResourceUsageError("projects update needs --name or --default-branch");
  return {
    action,
    flags: {
      ...flags,
      ...(target ? { target } : {}),
      ...(str("name") ? { name: str("name") } : {}),
      ...(str("default-branch") ? { defaultBranch: str("default-branch") } : {}),
      force: values.force === true,
    },
  };
}

function wholeFlag(str: (name: string) => string | undefined, name: string): number | undefined {
  const value = str(name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new ResourceUsageError(`--${name} must be a whole number (0 = the default), got "${value}"`);
  return Number(value);
}

/** Parses `ctrl env create|ls|update|rm …` (not `policy`). */
export function parseEnvironmentCommand(
  positionals: string[],
  values: Values,
  flags: GlobalFlags,
): { action: EnvironmentAction; flags: EnvironmentFlags } {
  const action = actionOf("env", positionals, environmentActions);
  const str = strOf(values);
  const slug = argument(positionals, "environment slug", `env ${action}`, action !== "ls");
  const regions = values.regions === "" ? "" : str("regions");
  const settings: EnvironmentSettingFlags = {
    ...(regions !== undefined
      ? {
          regions: regions
            .split(",")
            .map((r) => r.trim())
            .filter(Boolean),
        }
      : {}),
    ...(wholeFlag(str, "replicas") !== undefined ? { replicas: wholeFlag(str, "replicas") } : {}),
    ...(wholeFlag(str, "cpu") !== undefined ? { cpuMillicores: wholeFlag(str, "cpu") } : {}),
    ...(wholeFlag(str, "memory") !== undefined ? { memoryMib: wholeFlag(str, "memory") } : {}),
    ...(str("health-path") !== undefined ? { healthCheckPath: str("health-path") } : {}),
  };
  if (Object.keys(settings).length && (action === "ls" || action === "rm"))
    throw new ResourceUsageError(`env ${action} takes no setting flags`);
  if (action === "update" && !Object.keys(settings).length)
    throw new ResourceUsageError("env update needs at least one of --regions, --replicas, --cpu, --memory, --health-path");
  return { action, flags: { ...flags, ...(str("project") ? { project: str("project") } : {}), ...(slug ? { slug } : {}), settings } };
}

/** `30d`, `12h`, `90m` from now, or an ISO date/time, as Unix milliseconds. */
export function parseExpiry(text: string, now: number): number {
  const relative = /^(\d+)([mhd])$/.exec(text);
  if (relative) return now + Number(relative[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as "m" | "h" | "d"];
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at))
    throw new ResourceUsageError(`--expires must be a duration such as 30d, 12h, 90m or a date such as 2027-01-01, got "${text}"`);
  return at;
}

/** Parses `ctrl keys <action> …`. */
export function parseKeysCommand(
  positionals: string[],
  values: Values,
  flags: GlobalFlags,
  now: number,
): { action: KeyAction; flags: KeyFlags } {
  const action = actionOf("keys", positionals, keyActions);
  const str = strOf(values);
  const keyId = argument(positionals, "key id", `keys ${action}`, action === "revoke");
  const permissions = ((values.permission as string[] | undefined) ?? []).map((p) => p.trim());
  if (action === "create") {
    if (!str("name")) throw new ResourceUsageError("keys create needs --name NAME");
    if (!permissions.length) throw new ResourceUsageError("keys create needs at least one --permission (e.g. project.*.read_deployment)");
    if (permissions.some((p) => !p)) throw new ResourceUsageError("--permission must not be empty");
  } else if (str("name") || permissions.length || str("expires")) {
    throw new ResourceUsageError(`keys ${action} takes no --name, --permission or --expires`);
  }
  const expires = str("expires");
  return {
    action,
    flags: {
      ...flags,
      ...(keyId ? { keyId } : {}),
      ...(str("name") ? { name: str("name") } : {}),
      permissions,
      ...(expires ? { expiresAt: parseExpiry(expires, now) } : {}),
    },
  };
}
