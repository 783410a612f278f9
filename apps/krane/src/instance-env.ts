/**
 * The part of the agent's own environment that instances inherit: only what a program needs to run
 * (its PATH, HOME, locale, time zone, extra CA certificates). Never the agent's token, its S3 keys or
 * any other KRANE_* or control-plane variable — an allow-list, so a variable added to the agent later
 * stays out of tenant processes by default.
 */
export const inheritedVariables = ["PATH", "HOME", "LANG", "TZ", "NODE_EXTRA_CA_CERTS"] as const;

/** Picks {@link inheritedVariables} out of `env` (the agent's `process.env`). */
export function instanceBaseEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of inheritedVariables) if (env[name]) base[name] = env[name]!;
  return base;
}
