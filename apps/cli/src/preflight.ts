import { Code, ConnectError } from "@connectrpc/connect";
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { CliConfig } from "./args.js";
import { deploymentClient } from "./client.js";

/** The worker's default BUILD_MAX_CONTEXT_BYTES; `CTRL_MAX_CONTEXT_BYTES` tells the CLI another limit. */
export const defaultMaxContextBytes = 100 * 1024 * 1024;

/**
 * Checks the key, the project and the environment before anything is packed or uploaded
 * (ListDeployments of that environment, one item): an unknown key, project or environment fails now,
 * naming the valid environments. A key that may deploy but not read is not refused here (the create
 * call decides).
 */
export async function checkDeployTarget(config: CliConfig, projectId: string, environmentSlug: string): Promise<void> {
  try {
    await deploymentClient(config).listDeployments({ projectId, environmentSlug, pageSize: 1 });
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.PermissionDenied) return;
    if (e.code === Code.Unauthenticated)
      throw new Error(
        `ctrl-api at ${config.apiUrl} does not accept the root key (${e.rawMessage}): pass --root-key, set CTRL_ROOT_KEY or run \`ctrl login\``,
      );
    if (e.code === Code.NotFound) throw new Error(`${e.rawMessage}; nothing was packed or uploaded`);
    throw err;
  }
}

/** `.env` files: secrets that a context should not carry by accident (`.env.example`/`.env.sample` are fine). */
export function isEnvFile(relPath: string): boolean {
  const base = relPath.split("/").pop() ?? "";
  return /^\.env(\..+)?$/.test(base) && !/^\.env\.(example|sample|template)$/.test(base);
}

/**
 * Wraps a pack filter so `.env` files are left out unless `includeEnv`; `skipped` collects what was
 * left out (for the warning).
 */
export function withoutEnvFiles(filter: (relPath: string) => boolean, includeEnv: boolean) {
  const skipped: string[] = [];
  return {
    skipped,
    filter: (relPath: string) => {
      if (filter(relPath)) return true;
      if (!includeEnv && isEnvFile(relPath)) {
        skipped.push(relPath);
        return true;
      }
      return false;
    },
  };
}

/** The `count` largest files the filter keeps, biggest first (what to name when a context is too large). */
export function largestFiles(root: string, filter: (relPath: string) => boolean, count = 5): { path: string; bytes: number }[] {
  const files: { path: string; bytes: number }[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if (filter(child)) continue;
      const info = lstatSync(join(root, child));
      if (info.isDirectory()) walk(child);
      else if (info.isFile()) files.push({ path: child, bytes: info.size });
    }
  };
  walk("");
  return files.sort((a, b) => b.bytes - a.bytes).slice(0, count);
}

/** The error for a packed context over `limit` bytes: the largest files and the `.ctrlignore` hint. */
export function tooLargeMessage(
  bytes: number,
  limit: number,
  largest: { path: string; bytes: number }[],
  fmt: (n: number) => string,
): string {
  return [
    `the packed context is ${fmt(bytes)}, over the ${fmt(limit)} limit; nothing was uploaded. Largest files:`,
    ...largest.map((f) => `  ${fmt(f.bytes).padStart(10)}  ${f.path}`),
    "Leave out what the build does not need with a .ctrlignore file (same syntax as .gitignore).",
  ].join("\n");
}
