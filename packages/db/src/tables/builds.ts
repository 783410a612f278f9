import type { Insertable, Selectable } from "kysely";

export type BuildStatus = "running" | "succeeded" | "failed";

/** One build of a deployment's context (migration 0006_build). */
export interface BuildsTable {
  id: string;
  deployment_id: string;
  workspace_id: string;
  project_id: string;
  backend: "local" | "docker";
  context_key: string;
  /** Digest of the extracted context tree (paths, modes, contents); null until extracted. */
  context_sha256: string | null;
  status: BuildStatus;
  /** `s3://bucket/key@sha256:<hex>` or an image reference, once succeeded. */
  image: string | null;
  artifact_sha256: string | null;
  cached_from_build_id: string | null;
  failed_step: string | null;
  error_message: string | null;
  started_at: number;
  ended_at: number | null;
  updated_at: number;
}
export type Build = Selectable<BuildsTable>;
export type NewBuild = Insertable<BuildsTable>;
