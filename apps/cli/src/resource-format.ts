/** The `/v2` resource shapes the CLI prints (and passes through as `--json`). */
export interface ProjectJson {
  id: string;
  workspaceId: string;
  name: string;
  slug: string;
  defaultBranch: string;
  liveDeploymentId: string;
  isRolledBack: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface EnvironmentJson {
  id: string;
  projectId: string;
  slug: string;
  regions: string[];
  replicas: number;
  cpuMillicores: number;
  memoryMib: number;
  healthCheckPath: string;
  createdAt: number;
  updatedAt: number;
}

export interface RootKeyJson {
  id: string;
  workspaceId: string;
  name: string;
  start: string;
  permissions: string[];
  expiresAt: number;
  revokedAt: number;
  createdAt: number;
}

/** Left-aligned columns with a header row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** One environment's settings for people: defaults shown as such. */
export function environmentRow(e: EnvironmentJson): string[] {
  return [
    e.slug,
    e.regions.length ? e.regions.join(",") : "(default)",
    e.replicas ? String(e.replicas) : "(1)",
    e.cpuMillicores ? `${e.cpuMillicores}m` : "(250m)",
    e.memoryMib ? `${e.memoryMib}Mi` : "(256Mi)",
    e.healthCheckPath || "(/health)",
  ];
}

export const environmentHeader = ["ENVIRONMENT", "REGIONS", "REPLICAS", "CPU", "MEMORY", "HEALTH PATH"];

/** A time in ms as an ISO string, or `never` for 0. */
export function timeOrNever(ms: number): string {
  return ms ? new Date(ms).toISOString() : "never";
}
