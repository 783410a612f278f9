import type { MessageInitShape } from "@bufbuild/protobuf";
import { environmentSettingsOf, type Environment, type Project, type RootKeySummary } from "@ctrl/db";
import type { EnvironmentSchema, ProjectSchema, RootKeySchema } from "@ctrl/proto";

/**
 * One shape per resource, shared by `/v2` (JSON as is) and Connect (the `*Wire` functions only turn
 * times into int64): the same keys for the same thing on both surfaces and in the CLI's `--json`.
 * Zero values mean "the default" / "none", as in the proto messages.
 */
export interface ProjectView {
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

export interface EnvironmentView {
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

export interface RootKeyView {
  id: string;
  workspaceId: string;
  name: string;
  start: string;
  permissions: string[];
  expiresAt: number;
  revokedAt: number;
  createdAt: number;
}

/** A project row as the API shows it. */
export function projectView(row: Project): ProjectView {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    slug: row.slug,
    defaultBranch: row.default_branch,
    liveDeploymentId: row.live_deployment_id ?? "",
    isRolledBack: Boolean(Number(row.is_rolled_back)),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** An environment row as the API shows it. */
export function environmentView(row: Environment): EnvironmentView {
  const s = environmentSettingsOf(row);
  return {
    id: row.id,
    projectId: row.project_id,
    slug: row.slug,
    regions: s.regions ?? [],
    replicas: s.replicas ?? 0,
    cpuMillicores: s.cpuMillicores ?? 0,
    memoryMib: s.memoryMib ?? 0,
    healthCheckPath: s.healthCheckPath ?? "",
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** A root key as the API shows it: never the secret or its hash. */
export function rootKeyView(row: RootKeySummary): RootKeyView {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    start: row.start,
    permissions: JSON.parse(row.permissions) as string[],
    expiresAt: row.expires_at === null ? 0 : Number(row.expires_at),
    revokedAt: row.deleted_at === null ? 0 : Number(row.deleted_at),
    createdAt: Number(row.created_at),
  };
}

/** {@link ProjectView} as the proto message. */
export function projectWire(v: ProjectView): MessageInitShape<typeof ProjectSchema> {
  return { ...v, createdAt: BigInt(v.createdAt), updatedAt: BigInt(v.updatedAt) };
}

/** {@link EnvironmentView} as the proto message. */
export function environmentWire(v: EnvironmentView): MessageInitShape<typeof EnvironmentSchema> {
  return { ...v, createdAt: BigInt(v.createdAt), updatedAt: BigInt(v.updatedAt) };
}

/** {@link RootKeyView} as the proto message. */
export function rootKeyWire(v: RootKeyView): MessageInitShape<typeof RootKeySchema> {
  return { ...v, expiresAt: BigInt(v.expiresAt), revokedAt: BigInt(v.revokedAt), createdAt: BigInt(v.createdAt) };
}
