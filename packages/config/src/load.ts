import type { z } from "zod";

/** Which service a configuration belongs to, named in its startup error. */
export interface ConfigSource {
  /** The service's name, the first word of the error (`ctrl-api`). */
  service: string;
  /** Where its variables are documented (`apps/ctrl-api/src/config.ts`). */
  schemaFile: string;
}

/** A configuration that does not parse; the message names every bad or missing variable and how to fix it. */
export class ConfigError extends Error {
  /** The zod issues, one per bad variable. */
  declare readonly issues: readonly z.core.$ZodIssue[];

  constructor(source: ConfigSource, issues: readonly z.core.$ZodIssue[]) {
    const lines = issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    super(
      `${source.service}: invalid configuration:\n${lines.join("\n")}\nSet the variables above (see ${source.schemaFile}) and start again.`,
    );
    this.name = "ConfigError";
    // Not enumerable: an uncaught refusal prints the message and stack only, as before.
    Object.defineProperty(this, "issues", { value: issues, enumerable: false });
  }
}

/**
 * Parses `env` (the process environment in main.ts) with a service's zod schema, once, at start-up.
 * Throws a {@link ConfigError} listing every issue at once, so one restart fixes them all.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv, source: ConfigSource): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(source, parsed.error.issues);
  return parsed.data;
}
