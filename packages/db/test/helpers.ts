/**
 * Row builders for the db package's integration tests: each inserts one row with defaults for
 * every column the test does not care about. Tests get their database from `createTestDatabase`
 * (src/testing.ts), one per file.
 */
import type { Db, NewAcmeChallenge, NewCustomDomain, NewDeployment, NewFrontlineRoute, NewInstance, NewSentinel } from "../src/index.js";

/** Inserts a workspace, a project and an environment (`ws_<n>`, `proj_<n>`, `env_<n>` style ids are the caller's). */
export async function seedProject(
  db: Db,
  ids: { workspaceId: string; projectId: string; environmentIds?: { id: string; slug: string }[] },
  now = 1,
): Promise<void> {
  await db
    .insertInto("workspaces")
    .values({ id: ids.workspaceId, name: ids.workspaceId, slug: ids.workspaceId, created_at: now, updated_at: now })
    .onDuplicateKeyUpdate({ updated_at: now })
    .execute();
  await db
    .insertInto("projects")
    .values({
      id: ids.projectId,
      workspace_id: ids.workspaceId,
      name: ids.projectId,
      slug: ids.projectId,
      live_deployment_id: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  for (const env of ids.environmentIds ?? []) {
    await db
      .insertInto("environments")
      .values({
        id: env.id,
        workspace_id: ids.workspaceId,
        project_id: ids.projectId,
        slug: env.slug,
        regions: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }
}

/** Inserts an image deployment (`pending` unless told otherwise). */
export async function seedDeployment(
  db: Db,
  row: Pick<NewDeployment, "id" | "workspace_id" | "project_id" | "environment_id"> & Partial<NewDeployment>,
): Promise<void> {
  await db
    .insertInto("deployments")
    .values({
      source_type: "image",
      build_context_path: null,
      dockerfile_path: null,
      image: "img:1",
      build_id: null,
      git_commit_sha: "",
      git_branch: "main",
      git_commit_message: null,
      git_commit_author_handle: null,
      git_commit_author_avatar_url: null,
      git_commit_timestamp: null,
      command: null,
      status: "pending",
      error_message: null,
      failed_step: null,
      failure_reason: null,
      openapi_spec: null,
      cpu_millicores: 100,
      memory_mib: 128,
      replicas: 1,
      port: 8080,
      health_check_path: "/",
      created_at: 1,
      updated_at: 1,
      ...row,
    })
    .execute();
}

/** Inserts an instance (`running` in `r1` unless told otherwise). */
export async function seedInstance(
  db: Db,
  row: Pick<NewInstance, "id" | "deployment_id" | "address"> & Partial<NewInstance>,
): Promise<void> {
  await db
    .insertInto("instances")
    .values({
      workspace_id: "ws_1",
      project_id: "proj_1",
      region: "r1",
      k8s_name: `k-${row.id}`,
      cpu_millicores: 100,
      memory_mib: 128,
      status: "running",
      exit_code: null,
      halt_intent: null,
      failure_reason: null,
      created_at: 1,
      updated_at: 1,
      ...row,
    })
    .execute();
}

/** Inserts a sentinel (`running`, `healthy`, in `r1` unless told otherwise). */
export async function seedSentinel(
  db: Db,
  row: Pick<NewSentinel, "id" | "environment_id" | "version"> & Partial<NewSentinel>,
): Promise<void> {
  await db
    .insertInto("sentinels")
    .values({
      workspace_id: "ws_1",
      project_id: "proj_1",
      region: "r1",
      k8s_name: `k-${row.id}`,
      image: "img:1",
      desired_replicas: 1,
      desired_state: "running",
      cpu_millicores: 1,
      memory_mib: 1,
      health: "healthy",
      available_replicas: 1,
      running_image: "img:1",
      addresses: null,
      created_at: 1,
      updated_at: 1,
      ...row,
    })
    .execute();
}

/**
 * Inserts a custom domain claim and its ACME challenge (`pending_verification` / `waiting` unless
 * told otherwise; `verified` also sets `verified_domain`).
 */
export async function seedClaim(
  db: Db,
  row: Pick<NewCustomDomain, "id" | "domain" | "environment_id"> & Partial<NewCustomDomain>,
  challenge: Partial<NewAcmeChallenge> = {},
): Promise<void> {
  const status = row.verification_status ?? "pending_verification";
  await db
    .insertInto("custom_domains")
    .values({
      workspace_id: "ws_1",
      project_id: "proj_1",
      challenge_type: "http-01",
      verification_value: "v",
      verification_error: null,
      verification_checked_at: null,
      verified_at: status === "verified" ? 1 : null,
      verified_domain: status === "verified" ? row.domain : null,
      created_at: 1,
      updated_at: 1,
      ...row,
      verification_status: status,
    })
    .execute();
  await db
    .insertInto("acme_challenges")
    .values({
      id: `chal_${row.id}`,
      workspace_id: row.workspace_id ?? "ws_1",
      domain_id: row.id,
      token: null,
      authorization: null,
      type: row.challenge_type ?? "http-01",
      status: "waiting",
      error_message: null,
      expires_at: null,
      created_at: 1,
      updated_at: 1,
      ...challenge,
    })
    .execute();
}

/** Inserts a route of `fqdn` (`none` sticky in ws_1/proj_1 unless told otherwise). */
export async function seedRoute(
  db: Db,
  row: Pick<NewFrontlineRoute, "id" | "fully_qualified_domain_name" | "deployment_id" | "environment_id"> & Partial<NewFrontlineRoute>,
): Promise<void> {
  await db
    .insertInto("frontline_routes")
    .values({ workspace_id: "ws_1", project_id: "proj_1", sticky: "none", created_at: 1, updated_at: 1, ...row })
    .execute();
}
