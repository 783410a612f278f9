import { InvalidField } from "../deployment-model/errors.js";

/** Input limits of projects, environments and keys. */
export const resourceLimits = {
  nameChars: 255,
  slugChars: 48,
  branchChars: 255,
  regionChars: 64,
  regions: 32,
  replicas: 100,
  cpuMillicores: 64_000,
  memoryMib: 262_144,
  healthCheckPathChars: 255,
  permissions: 100,
  permissionChars: 255,
} as const;

const slugPattern = /^[a-z][a-z0-9-]*$/;

/** A trimmed display name, 1..255 characters. */
export function validateName(value: string, rpcField = "name", httpField = "name"): string {
  const name = value.trim();
  if (!name) throw new InvalidField(rpcField, httpField, "is required");
  if ([...name].length > resourceLimits.nameChars)
    throw new InvalidField(rpcField, httpField, `must be at most ${resourceLimits.nameChars} characters`);
  if (/\p{Cc}/u.test(name)) throw new InvalidField(rpcField, httpField, "must not contain control characters");
  return name;
}

/** A slug: lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen, at most 48. */
export function validateSlug(value: string, rpcField = "slug", httpField = "slug"): string {
  const slug = value.trim();
  if (!slug) throw new InvalidField(rpcField, httpField, "is required (e.g. my-app)");
  if (slug.length > resourceLimits.slugChars)
    throw new InvalidField(rpcField, httpField, `must be at most ${resourceLimits.slugChars} characters`);
  if (!slugPattern.test(slug) || slug.endsWith("-") || slug.includes("--"))
    throw new InvalidField(
      rpcField,
      httpField,
      "must be lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen (e.g. my-app)",
    );
  return slug;
}

/** A git branch name (the rules of `git check-ref-format` that matter for a name people type). */
export function validateBranch(value: string, rpcField = "default_branch", httpField = "defaultBranch"): string {
  const branch = value.trim();
  if (!branch) throw new InvalidField(rpcField, httpField, "must not be empty");
  if (branch.length > resourceLimits.branchChars)
    throw new InvalidField(rpcField, httpField, `must be at most ${resourceLimits.branchChars} characters`);
  if (
    /[\s~^:?*[\\\p{Cc}]/u.test(branch) ||
    branch.includes("..") ||
    branch.startsWith("/") ||
    branch.endsWith("/") ||
    branch.endsWith(".lock")
  )
    throw new InvalidField(rpcField, httpField, "is not a valid git branch name");
  return branch;
}

/** Environment settings as given (0 / "" / [] = the default, stored as null). */
export interface EnvironmentSettingsInput {
  regions?: readonly string[];
  replicas?: number;
  cpuMillicores?: number;
  memoryMib?: number;
  healthCheckPath?: string;
}

/** Validates the settings that are present and maps "default" values to null. */
export function validateEnvironmentSettings(input: EnvironmentSettingsInput): {
  regions?: string[] | null;
  replicas?: number | null;
  cpuMillicores?: number | null;
  memoryMib?: number | null;
  healthCheckPath?: string | null;
} {
  const out: ReturnType<typeof validateEnvironmentSettings> = {};
  if (input.regions !== undefined) {
    if (input.regions.length > resourceLimits.regions)
      throw new InvalidField("regions", "regions", `at most ${resourceLimits.regions} regions`);
    const regions = input.regions.map((r) => r.trim());
    for (const region of regions)
      if (!/^[a-z0-9][a-z0-9-]*$/.test(region) || region.length > resourceLimits.regionChars)
        throw new InvalidField("regions", "regions", `"${region.slice(0, 64)}" is not a region name (lowercase letters, digits, hyphens)`);
    if (new Set(regions).size !== regions.length) throw new InvalidField("regions", "regions", "must not repeat a region");
    out.regions = regions.length ? regions : null;
  }
  const whole = (value: number | undefined, rpcField: string, httpField: string, max: number) => {
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < 0 || value > max)
      throw new InvalidField(rpcField, httpField, `must be a whole number from 0 (the default) to ${max}`);
    return value === 0 ? null : value;
  };
  const replicas = whole(input.replicas, "replicas", "replicas", resourceLimits.replicas);
  if (replicas !== undefined) out.replicas = replicas;
  const cpu = whole(input.cpuMillicores, "cpu_millicores", "cpuMillicores", resourceLimits.cpuMillicores);
  if (cpu !== undefined) out.cpuMillicores = cpu;
  const memory = whole(input.memoryMib, "memory_mib", "memoryMib", resourceLimits.memoryMib);
  if (memory !== undefined) out.memoryMib = memory;
  if (input.healthCheckPath !== undefined) {
    const path = input.healthCheckPath.trim();
    if (path && (!path.startsWith("/") || path.length > resourceLimits.healthCheckPathChars || /[\s\p{Cc}]/u.test(path)))
      throw new InvalidField(
        "health_check_path",
        "healthCheckPath",
        `must be a path starting with / without spaces, at most ${resourceLimits.healthCheckPathChars} characters`,
      );
    out.healthCheckPath = path || null;
  }
  return out;
}

/** Root-key permissions: 1..100 of `project.<id|*>.<action|*>` or `workspace.<action|*>`. */
export function validatePermissions(values: readonly string[]): string[] {
  if (values.length === 0)
    throw new InvalidField("permissions", "permissions", "at least one permission is required (e.g. project.*.read_deployment)");
  if (values.length > resourceLimits.permissions)
    throw new InvalidField("permissions", "permissions", `at most ${resourceLimits.permissions} permissions`);
  const permissions = values.map((p) => p.trim());
  for (const p of permissions) {
    const parts = p.split(".");
    const segment = /^(\*|[A-Za-z0-9_-]+)$/;
    const ok =
      p.length <= resourceLimits.permissionChars &&
      ((parts[0] === "project" && parts.length === 3) || (parts[0] === "workspace" && parts.length === 2)) &&
      parts.slice(1).every((s) => segment.test(s));
    if (!ok)
      throw new InvalidField(
        "permissions",
        "permissions",
        `"${p.slice(0, 64)}" is not a permission: expected project.<id|*>.<action|*> or workspace.<action|*>`,
      );
  }
  return [...new Set(permissions)];
}
