import type { Db } from "../pool.js";
import type { BuildLogLine } from "../tables/build-logs.js";
import type { Build, BuildsTable } from "../tables/builds.js";

/** What {@link startBuild} records. */
export interface BuildStart {
  id: string;
  deploymentId: string;
  workspaceId: string;
  projectId: string;
  backend: BuildsTable["backend"];
  contextKey: string;
  now: number;
}

/**
 * Inserts the build row of a deployment as `running`, or re-opens it when a retried build runs
 * again: (deployment_id) is unique, so one deployment never gets two build rows.
 */
export async function startBuild(db: Db, start: BuildStart): Promise<void> {
  await db
    .insertInto("builds")
    .values({
      id: start.id,
      deployment_id: start.deploymentId,
      workspace_id: start.workspaceId,
      project_id: start.projectId,
      backend: start.backend,
      context_key: start.contextKey,
      context_sha256: null,
      status: "running",
      image: null,
      artifact_sha256: null,
      cached_from_build_id: null,
      failed_step: null,
      error_message: null,
      started_at: start.now,
      ended_at: null,
      updated_at: start.now,
    })
    .onDuplicateKeyUpdate({ status: "running", failed_step: null, error_message: null, ended_at: null, updated_at: start.now })
    .execute();
}

/** The build row of a deployment, or undefined. */
export async function findBuildByDeployment(db: Db, deploymentId: string): Promise<Build | undefined> {
  return db.selectFrom("builds").selectAll().where("deployment_id", "=", deploymentId).executeTakeFirst();
}

/** Records the digest of the extracted context (the cache key together with the project). */
export async function setBuildContextDigest(db: Db, buildId: string, contextSha256: string, now: number): Promise<void> {
  await db.updateTable("builds").set({ context_sha256: contextSha256, updated_at: now }).where("id", "=", buildId).execute();
}

/**
 * The newest succeeded build of `projectId` with the same context digest (other than
 * `excludeBuildId`, and of `backend` when given), whose artifact a new build can reuse.
 */
export async function findReusableBuild(
  db: Db,
  projectId: string,
  contextSha256: string,
  excludeBuildId: string,
  backend?: BuildsTable["backend"],
): Promise<Build | undefined> {
  let query = db
    .selectFrom("builds")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("context_sha256", "=", contextSha256)
    .where("status", "=", "succeeded")
    .where("id", "!=", excludeBuildId)
    .where("image", "is not", null);
  // An artifact of one backend is no use to another (an s3:// artifact is not a container image).
  if (backend) query = query.where("backend", "=", backend);
  return query.orderBy("ended_at", "desc").limit(1).executeTakeFirst();
}

/** Marks a build succeeded with its image/artifact reference. */
export async function completeBuild(
  db: Db,
  buildId: string,
  result: { image: string; artifactSha256: string | null; cachedFromBuildId: string | null; now: number },
): Promise<void> {
  await db
    .updateTable("builds")
    .set({
      status: "succeeded",
      image: result.image,
      artifact_sha256: result.artifactSha256,
      cached_from_build_id: result.cachedFromBuildId,
      ended_at: result.now,
      updated_at: result.now,
    })
    .where("id", "=", buildId)
    .execute();
}

/** Marks a build failed at `step`. */
export async function failBuild(db: Db, buildId: string, failure: { step: string; errorMessage: string; now: number }): Promise<void> {
  await db
    .updateTable("builds")
    .set({
      status: "failed",
      failed_step: failure.step,
      error_message: failure.errorMessage,
      ended_at: failure.now,
      updated_at: failure.now,
    })
    .where("id", "=", buildId)
    .execute();
}

/** Sets the deployment's build id and runnable image (after a successful build). */
export async function setDeploymentBuild(
  db: Db,
  deploymentId: string,
  build: { buildId: string; image: string; now: number },
): Promise<void> {
  await db
    .updateTable("deployments")
    .set({ build_id: build.buildId, image: build.image, updated_at: build.now })
    .where("id", "=", deploymentId)
    .execute();
}

/** One log line to append. */
export interface BuildLogWrite {
  step: string;
  seq: number;
  line: string;
  createdAt: number;
}

/** Appends log lines; `seq` is per deployment and keeps growing across retried attempts. */
export async function appendBuildLogs(db: Db, deploymentId: string, buildId: string, lines: BuildLogWrite[]): Promise<void> {
  if (lines.length === 0) return;
  await db
    .insertInto("build_logs")
    .values(
      lines.map((l) => ({
        deployment_id: deploymentId,
        build_id: buildId,
        step: l.step,
        seq: l.seq,
        line: l.line,
        created_at: l.createdAt,
      })),
    )
    // A line written twice (same seq) keeps its first text: appends are at-least-once.
    .onDuplicateKeyUpdate({ seq: (eb) => eb.ref("seq") })
    .execute();
}

/** The highest log `seq` of a deployment (0 when it has no log yet): a retried build continues after it. */
export async function maxBuildLogSeq(db: Db, deploymentId: string): Promise<number> {
  const row = await db
    .selectFrom("build_logs")
    .select((eb) => eb.fn.max("seq").as("seq"))
    .where("deployment_id", "=", deploymentId)
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

/** Removes a deployment's build log. */
export async function clearBuildLogs(db: Db, deploymentId: string): Promise<void> {
  await db.deleteFrom("build_logs").where("deployment_id", "=", deploymentId).execute();
}

/** Log lines of a deployment with `seq > afterSeq`, in order, at most `limit`. */
export async function readBuildLogs(db: Db, deploymentId: string, afterSeq = 0, limit = 1000): Promise<BuildLogLine[]> {
  return db
    .selectFrom("build_logs")
    .selectAll()
    .where("deployment_id", "=", deploymentId)
    .where("seq", ">", afterSeq)
    .orderBy("seq")
    .limit(limit)
    .execute();
}
