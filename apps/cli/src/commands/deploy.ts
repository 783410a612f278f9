import { packDirectory } from "@ctrl/artifact";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { CliConfig, DeployFlags } from "../args.js";
import { UsageError } from "../args.js";
import { ApiError, callPublicApi, deploymentClient, type CreateDeploymentBody, type UploadUrl } from "../client.js";
import { FollowInterruptedError, followDeployment } from "../follow.js";
import { deploymentJson, formatDuration, hostnameUrl, statusName } from "../format.js";
import { readGitMetadata, type GitMetadata } from "../git.js";
import { packFilter } from "../ignore.js";
import type { Output } from "../output.js";
import { formatBytes, progressReporter } from "../progress.js";
import { checkDeployTarget, defaultMaxContextBytes, largestFiles, tooLargeMessage, withoutEnvFiles } from "../preflight.js";
import { uploadFile } from "../upload.js";
import { DeploymentStatus } from "@ctrl/proto";

/** Wall-clock phases of one deploy, for `--json` and the benchmark. */
export interface DeployTimings {
  packMs?: number;
  uploadMs?: number;
  createMs: number;
  followMs?: number;
}

/**
 * The environment a deploy goes to: `--env` when given (`--prod` with another slug is a usage error),
 * production with `--prod`, else production for the project's default branch (or when no branch is
 * known: the API then uses the default branch) and preview for any other branch.
 */
export function chooseEnvironment(input: { env?: string; prod: boolean; branch?: string; defaultBranch?: string }): string {
  if (input.env && input.prod && input.env !== "production")
    throw new UsageError(`--prod deploys to production; it cannot be combined with --env ${input.env}`);
  if (input.env) return input.env;
  if (input.prod || !input.branch) return "production";
  return input.branch === input.defaultBranch ? "production" : "preview";
}

/** The project's default branch, read only when the environment depends on it. */
async function defaultBranchOf(config: CliConfig, projectId: string): Promise<string> {
  try {
    return (await callPublicApi<{ project: { defaultBranch: string } }>(config, "projects.getProject", { projectId })).project
      .defaultBranch;
  } catch (err) {
    if (err instanceof ApiError && err.status === 403)
      throw new Error(
        `the key cannot read project ${projectId} (project.${projectId}.read_project) to choose the environment from the branch; pass --env SLUG or --prod`,
      );
    throw err;
  }
}

/**
 * `ctrl deploy [dir]`: pack (honouring .gitignore/.ctrlignore) → generateUploadUrl → upload with a
 * progress bar → createDeployment (with git metadata) → follow until ready (print the domains) or
 * failed (print the reason and the failing step; exit code 1). With `--image` it skips the build.
 */
// Long because the deploy command is one sequence a person watches (preflight, pack, upload, create, follow, Ctrl-C).
export async function deployCommand(
  config: CliConfig,
  dirArg: string,
  flags: DeployFlags,
  out: Output,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const commandStartedAt = Date.now();
  const projectId = flags.project ?? env.CTRL_PROJECT_ID?.trim();
  if (!projectId) throw new UsageError("missing the project: pass --project <project id> or set CTRL_PROJECT_ID");
  const dir = resolve(dirArg);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`${dirArg} is not a directory`);

  const git: GitMetadata | undefined = await readGitMetadata(dir);
  if (git?.dirty) out.info(`note: ${dir} has uncommitted changes; they are deployed too (commit ${git.sha.slice(0, 7)} is the nearest)`);
  const branch = flags.branch ?? git?.branch;
  const explicit = { ...(flags.envFromBranch ? {} : { env: flags.env }), prod: flags.prod === true };
  const environmentSlug =
    explicit.env || explicit.prod || !branch
      ? chooseEnvironment({ ...explicit, ...(branch ? { branch } : {}) })
      : chooseEnvironment({ prod: false, branch, defaultBranch: await defaultBranchOf(config, projectId) });
  const timings: DeployTimings = { createMs: 0 };
  const body: CreateDeploymentBody = {
    projectId,
    environmentSlug,
    ...(branch ? { branch } : {}),
    ...(git
      ? { gitCommit: { commitSha: git.sha, commitMessage: git.message, authorHandle: git.authorName, timestamp: git.timestampMs } }
      : {}),
  };

  // Key, project and environment first: nothing is packed or uploaded for a deploy that cannot happen.
  await checkDeployTarget(config, projectId, flags.env);

  if (flags.image) {
    body.image = flags.image;
  } else {
    const scratch = await mkdtemp(join(tmpdir(), "ctrl-deploy-"));
    try {
      let t = Date.now();
      const archive = join(scratch, "context.tar.gz");
      const filter = withoutEnvFiles(packFilter(dir), flags.includeEnv === true);
      const packed = await packDirectory(dir, archive, { ignore: filter.filter });
      timings.packMs = Date.now() - t;
      if (filter.skipped.length)
        out.stderr.write(
          `warning: left out ${filter.skipped.join(", ")} (secrets belong in environment variables; --include-env packs them)\n`,
        );
      const limit = Number(env.CTRL_MAX_CONTEXT_BYTES) > 0 ? Number(env.CTRL_MAX_CONTEXT_BYTES) : defaultMaxContextBytes;
      if (packed.bytes > limit) throw new Error(tooLargeMessage(packed.bytes, limit, largestFiles(dir, filter.filter), formatBytes));
      out.info(`packed ${dir} (${formatBytes(packed.bytes)}, sha256 ${packed.sha256.slice(0, 12)}) in ${formatDuration(timings.packMs)}`);

      const upload = await callPublicApi<UploadUrl>(config, "deploy.generateUploadUrl", { projectId });
      t = Date.now();
      const bar = out.json ? undefined : progressReporter(out.stderr, packed.bytes, "uploading");
      await uploadFile(upload.uploadUrl, archive, (sent) => bar?.update(sent));
      bar?.finish();
      timings.uploadMs = Date.now() - t;
      out.info(`uploaded ${formatBytes(packed.bytes)} in ${formatDuration(timings.uploadMs)}`);
      body.build = { context: upload.context, ...(flags.dockerfile ? { dockerfile: flags.dockerfile } : {}) };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  let t = Date.now();
  const { deploymentId } = await callPublicApi<{ deploymentId: string }>(config, "deploy.createDeployment", body);
  timings.createMs = Date.now() - t;
  out.info(
    `deployment ${deploymentId} created (${environmentSlug}${branch ? `, branch ${branch}` : ""}${git ? `, commit ${git.sha.slice(0, 7)}` : ""})`,
  );

  if (!flags.wait) {
    out.result({ deploymentId, status: "PENDING", timings }, deploymentId);
    return 0;
  }
  t = Date.now();
  const client = deploymentClient(config);
  // Ctrl-C while following asks nothing: the deployment goes on, and we say how to get back to it.
  const interrupted = new AbortController();
  const onInterrupt = () => interrupted.abort();
  process.once("SIGINT", onInterrupt);
  let final: Awaited<ReturnType<typeof followDeployment>>;
  try {
    final = await followDeployment(client, deploymentId, out, { timeoutMs: flags.timeoutSeconds * 1000, signal: interrupted.signal });
  } catch (err) {
    if (!(err instanceof FollowInterruptedError)) throw err;
    out.stderr.write(stoppedFollowing(deploymentId));
    return 130;
  } finally {
    process.removeListener("SIGINT", onInterrupt);
  }
  timings.followMs = Date.now() - t;
  const json = { ...deploymentJson(final), deploymentId, timings };
  if (final.status === DeploymentStatus.READY) {
    const urls = final.hostnames.map((h) => hostnameUrl(h, flags.frontlinePort));
    out.result(
      json,
      [`ready in ${formatDuration(Date.now() - commandStartedAt)}: ${deploymentId}`, ...urls.map((u) => `  ${u}`)].join("\n"),
    );
    return 0;
  }
  const where = final.failedStep ? ` at step ${final.failedStep}` : "";
  out.result(json, `deployment ${deploymentId} ${statusName(final.status)}${where}:\n${final.errorMessage || "(no error message)"}`);
  return 1;
}

/** What Ctrl-C during `ctrl deploy` prints: the deployment keeps going; how to follow or cancel it. */
export function stoppedFollowing(deploymentId: string): string {
  return [
    "",
    `stopped following; deployment ${deploymentId} keeps going.`,
    `  follow it:  ctrl status ${deploymentId}   or   ctrl logs ${deploymentId} --follow`,
    `  cancel it:  ctrl cancel ${deploymentId}`,
    "",
  ].join("\n");
}
