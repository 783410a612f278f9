import type { ParseArgsConfig } from "node:util";
import type { GlobalFlags } from "./args.js";

/** A mistake in how a vars or lifecycle command was called (args.ts turns it into a UsageError, exit 2). */
export class LifecycleUsageError extends Error {}

/** `ctrl vars <action>`. */
export const varsActions = ["set", "ls", "unset"] as const;
export type VarsAction = (typeof varsActions)[number];

/** `ctrl vars …` flags and arguments. */
export interface VarsFlags extends GlobalFlags {
  project?: string;
  env: string;
  reveal: boolean;
  redeploy: boolean;
  /** set: `KEY=VALUE` pairs in order (a `.env` file's first, then the command line's); unset: keys in `keys`. */
  variables: { key: string; value: string }[];
  keys: string[];
  /** set --file PATH (read by the command, parsed with {@link parseDotEnv}). */
  file?: string;
}

/** `ctrl domains <action>`. */
export const domainsActions = ["add", "ls", "rm"] as const;
export type DomainsAction = (typeof domainsActions)[number];

/** `ctrl domains …` flags. */
export interface DomainsFlags extends GlobalFlags {
  project?: string;
  /** add: the environment (default production); ls: only this environment when given. */
  env?: string;
  /** add: verify a wildcard (or any name) with DNS-01. */
  dns01: boolean;
}

/** `ctrl cancel <deployment-id>` flags. */
export interface CancelFlags extends GlobalFlags {
  reason?: string;
}

/** parseArgs options of `ctrl vars`. */
export const varsOptions = {
  project: { type: "string", short: "p" },
  env: { type: "string", short: "e" },
  reveal: { type: "boolean", default: false },
  redeploy: { type: "boolean", default: false },
  file: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** parseArgs options of `ctrl domains`. */
export const domainsOptions = {
  project: { type: "string", short: "p" },
  env: { type: "string", short: "e" },
  "dns-01": { type: "boolean", default: false },
} as const satisfies ParseArgsConfig["options"];

/** parseArgs options of `ctrl cancel`. */
export const cancelOptions = { reason: { type: "string" } } as const satisfies ParseArgsConfig["options"];

/** Usage lines of the commands in this file. */
export const lifecycleUsage = {
  vars:
    "ctrl vars set KEY=VALUE… [--file .env] [--redeploy] | ls [--reveal] | unset KEY… [--project ID] [--env production]\n" +
    "  An environment's variables (stored encrypted). A change takes effect on the next deployment: running ones keep\n" +
    "  the variables they were created with (so a rollback runs its old configuration). --redeploy deploys the\n" +
    "  environment's current image again with the new values. ls shows names only unless --reveal.",
  domains:
    "ctrl domains add <domain> [--env production] [--dns-01] | ls [--env SLUG] | rm <domain> [--project ID]\n" +
    "  Custom domains: add shows the TXT record that proves you own the name (nothing is routed before it is seen);\n" +
    "  ls shows each domain's verification, certificate and routing state; rm stops routing it and deletes its certificate.",
  stop:
    "ctrl stop <deployment-id>\n" +
    "  Standby: its instances stop in every region; it keeps its rows and hostnames and can start again. The deployment\n" +
    "  serving the environment is refused (roll back or promote another one first).",
  start: "ctrl start <deployment-id>\n  Runs a stopped (standby) deployment again.",
  rm:
    "ctrl rm <deployment-id>\n" +
    "  Deletes a finished deployment: its instances stop, its own hostnames stop routing, and it is archived. The deployment\n" +
    "  serving the environment is refused, and a running deploy must be cancelled first.",
  cancel:
    "ctrl cancel <deployment-id> [--reason TEXT]\n" +
    "  Stops a running deploy at its next step: it ends cancelled with its instances stopped. A finished one is refused.",
};

type Values = Record<string, string | boolean | undefined>;

function text(values: Values, name: string): string | undefined {
  const value = values[name];
  if (typeof value !== "string") return undefined;
  if (value.trim() === "") throw new LifecycleUsageError(`--${name} must not be empty`);
  return value.trim();
}

/** Parses `ctrl vars set|ls|unset …`. Values are taken as typed (after the first `=`), never trimmed. */
export function parseVarsCommand(positionals: string[], values: Values, flags: GlobalFlags): { action: VarsAction; flags: VarsFlags } {
  const [action, ...args] = positionals;
  if (!action || !(varsActions as readonly string[]).includes(action))
    throw new LifecycleUsageError(`expected \`ctrl vars set|ls|unset\`, got: ctrl vars ${positionals.join(" ")}`);
  const base: VarsFlags = {
    ...flags,
    env: text(values, "env") ?? "production",
    ...(text(values, "project") ? { project: text(values, "project") } : {}),
    reveal: values.reveal === true,
    redeploy: values.redeploy === true,
    variables: [],
    keys: [],
  };
  if (base.reveal && action !== "ls") throw new LifecycleUsageError("--reveal is for vars ls");
  if (base.redeploy && action !== "set") throw new LifecycleUsageError("--redeploy is for vars set");
  const file = text(values, "file");
  if (file && action !== "set") throw new LifecycleUsageError("--file is for vars set");
  switch (action) {
    case "ls":
      if (args.length) throw new LifecycleUsageError(`vars ls takes no arguments, got: ${args.join(" ")}`);
      return { action, flags: base };
    case "unset":
      if (!args.length) throw new LifecycleUsageError("vars unset needs at least one KEY");
      return { action, flags: { ...base, keys: args } };
    default: {
      if (!args.length && !file) throw new LifecycleUsageError("vars set needs KEY=VALUE pairs or --file .env");
      const variables = args.map((arg) => {
        const eq = arg.indexOf("=");
        if (eq <= 0) throw new LifecycleUsageError(`vars set takes KEY=VALUE, got "${arg}"`);
        return { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
      });
      return { action: "set", flags: { ...base, variables, ...(file ? { file } : {}) } };
    }
  }
}

/** Parses `ctrl domains add|ls|rm …`. */
export function parseDomainsCommand(
  positionals: string[],
  values: Values,
  flags: GlobalFlags,
): { action: DomainsAction; domain?: string; flags: DomainsFlags } {
  const [action, ...args] = positionals;
  if (!action || !(domainsActions as readonly string[]).includes(action))
    throw new LifecycleUsageError(`expected \`ctrl domains add|ls|rm\`, got: ctrl domains ${positionals.join(" ")}`);
  const env = text(values, "env");
  const project = text(values, "project");
  const out: DomainsFlags = { ...flags, ...(env ? { env } : {}), ...(project ? { project } : {}), dns01: values["dns-01"] === true };
  if (out.dns01 && action !== "add") throw new LifecycleUsageError("--dns-01 is for domains add");
  if (action === "ls") {
    if (args.length) throw new LifecycleUsageError(`domains ls takes no arguments, got: ${args.join(" ")}`);
    return { action, flags: out };
  }
  if (args.length !== 1 || !args[0]!.trim())
    throw new LifecycleUsageError(`domains ${action} takes one domain, got: ${args.length ? args.join(" ") : "none"}`);
  if (action === "rm" && env) throw new LifecycleUsageError("domains rm takes the domain only (no --env)");
  return { action: action as DomainsAction, domain: args[0]!.trim(), flags: out };
}

/** Parses `ctrl stop|start|rm <deployment-id>`. */
export function parseStateCommand(command: "stop" | "start" | "rm", positionals: string[]): string {
  if (positionals.length !== 1 || !positionals[0]!.trim())
    throw new LifecycleUsageError(`${command} takes one deployment id, got: ${positionals.length ? positionals.join(" ") : "none"}`);
  return positionals[0]!.trim();
}

/** Parses `ctrl cancel <deployment-id> [--reason TEXT]`. */
export function parseCancelCommand(
  positionals: string[],
  values: Values,
  flags: GlobalFlags,
): { deploymentId: string; flags: CancelFlags } {
  if (positionals.length !== 1 || !positionals[0]!.trim())
    throw new LifecycleUsageError(`cancel takes one deployment id, got: ${positionals.length ? positionals.join(" ") : "none"}`);
  const reason = text(values, "reason");
  return { deploymentId: positionals[0]!.trim(), flags: { ...flags, ...(reason ? { reason } : {}) } };
}

/**
 * Parses a `.env` file: `KEY=VALUE` lines, optionally prefixed by `export`; blank lines and `#`
 * comments are skipped; a value in double quotes may span lines and understands `\n`, `\"` and
 * `\\`; in single quotes it is literal; unquoted it ends at ` #` and is trimmed. A malformed line
 * is an error naming its number.
 */
export function parseDotEnv(content: string, name = ".env"): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  const lines = content.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new LifecycleUsageError(`${name}:${i + 1}: expected KEY=VALUE, got "${line.slice(0, 60)}"`);
    const key = match[1]!;
    let raw = match[2]!;
    let value: string;
    if (raw.startsWith('"')) {
      const start = i + 1;
      while (!/(^|[^\\])(\\\\)*"\s*(#.*)?$/.test(raw.slice(1)) && i + 1 < lines.length) raw += `\n${lines[++i]}`;
      const end = raw.lastIndexOf('"');
      if (end <= 0) throw new LifecycleUsageError(`${name}:${start}: the double quote of ${key} is never closed`);
      value = raw.slice(1, end).replace(/\\(["\\n])/g, (_m, c: string) => (c === "n" ? "\n" : c));
    } else if (raw.startsWith("'")) {
      const end = raw.lastIndexOf("'");
      if (end <= 0) throw new LifecycleUsageError(`${name}:${i + 1}: the single quote of ${key} is never closed`);
      value = raw.slice(1, end);
    } else {
      value = raw.replace(/\s+#.*$/, "").trim();
    }
    out.push({ key, value });
  }
  return out;
}
