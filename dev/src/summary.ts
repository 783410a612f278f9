import type { SeedResult } from "@ctrl/db";
import type { ServiceSpec } from "./runner.js";

/** The text printed once the stack is up: URLs, the root key (shown once) and curls to try. */
export function summary(input: {
  services: ServiceSpec[];
  apiUrl: string;
  seed: SeedResult;
  seconds: number;
  secretsFile?: string;
}): string {
  const rows = input.services.flatMap((s) => Object.entries(s.urls ?? {}));
  const width = Math.max(...rows.map(([k]) => k.length), "root key".length);
  const { seed } = input;
  return [
    "",
    `ctrl local stack is up (${input.seconds.toFixed(1)} s). Ctrl-C stops everything.`,
    "",
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    "",
    `  ${"workspace".padEnd(width)}  ${seed.workspaceId} (local)`,
    `  ${"project".padEnd(width)}  ${seed.projectId} (hello; environments production ${seed.environments.production}, preview ${seed.environments.preview})`,
    `  ${"root key".padEnd(width)}  ${seed.rootKey}`,
    `  ${"".padEnd(width)}  ↑ shown once: it is stored hashed. Each \`pnpm dev\` mints a new one; old ones keep working.`,
    ...(input.secretsFile
      ? [
          `  ${"secrets".padEnd(width)}  ${input.secretsFile}  (mode 0600: CTRL_OPERATOR_TOKEN, CTRL_FRONTLINE_TOKEN, KRANE_TOKEN, KRANE_VAULT_MASTER_KEYS; generated once, delete to rotate)`,
        ]
      : []),
    "",
    "Ask for an upload URL:",
    "",
    `  curl -sS -X POST ${input.apiUrl}/v2/deploy.generateUploadUrl \\`,
    `    -H 'Authorization: Bearer ${seed.rootKey}' \\`,
    `    -H 'Content-Type: application/json' \\`,
    `    -d '{"projectId":"${seed.projectId}"}'`,
    "",
    "then upload a build context to the returned data.uploadUrl:",
    "",
    `  tar czf /tmp/context.tar.gz -C <your app dir> . && curl -sS -X PUT --upload-file /tmp/context.tar.gz '<data.uploadUrl>'`,
    "",
  ].join("\n");
}
