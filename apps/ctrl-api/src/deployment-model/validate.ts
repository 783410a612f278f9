import { deploymentDefaults, deploymentLimits } from "./defaults.js";
import { InvalidField } from "./errors.js";

/** A deployment's source as a front-end received it (the RPC's oneof, or the HTTP body's keys). */
export type SourceInput = { kind: "image"; image: string } | { kind: "build_context"; path: string; dockerfile?: string | undefined };

/** What both front-ends hand to {@link validateCreateDeployment}. */
export interface CreateDeploymentInput {
  projectId: string;
  /** Empty: the project's default branch, then `main`. */
  branch: string;
  environmentSlug: string;
  /** Every source the request named: exactly one is valid. */
  sources: SourceInput[];
  gitCommit?: {
    commitSha: string;
    commitMessage: string;
    authorHandle: string;
    authorAvatarUrl: string;
    /** Unix ms; 0 = not given. */
    timestamp: number;
  };
  command: string[];
}

/** The validated, normalized request (branch still empty when the project's default applies). */
export interface ValidCreateDeployment {
  projectId: string;
  branch: string;
  environmentSlug: string;
  source: { kind: "image"; image: string } | { kind: "build_context"; path: string; dockerfile: string };
  git: {
    commitSha: string;
    commitMessage: string | null;
    authorHandle: string | null;
    authorAvatarUrl: string | null;
    timestamp: number | null;
  };
  command: string[] | null;
}

const encoder = new TextEncoder();

/** UTF-8 byte length of `s`. */
export function utf8Bytes(s: string): number {
  return encoder.encode(s).length;
}

/**
 * Cuts `s` to at most `maxBytes` UTF-8 bytes without splitting a character (a cut surrogate pair
 * or multi-byte sequence is dropped whole).
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes || utf8Bytes(s) <= maxBytes) return s;
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const size = utf8Bytes(ch);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += ch.length;
  }
  return s.slice(0, end);
}

// Docker reference grammar (distribution/reference): [domain[:port]/]path[:tag][@digest].
const component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const label = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
// A registry host is only recognised as such when it has a dot or a port, or is localhost (as docker does).
const domain = `(?:localhost(?::[0-9]+)?|${label}(?:\\.${label})+(?::[0-9]+)?|${label}:[0-9]+)`;
const imagePattern = new RegExp(
  `^(?:${domain}/)?${component}(?:/${component})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);
// What a build produces for the process driver (the format of @ctrl/artifact's formatArtifactRef):
// `s3://<bucket>/<key>@sha256:<64 lowercase hex>`.
const artifactPattern = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/([A-Za-z0-9_.\-/+=]{1,1024})@sha256:[0-9a-f]{64}$/;

/** The object key of an artifact reference, or undefined when `ref` is not one. */
export function artifactKeyOf(ref: string): string | undefined {
  const m = artifactPattern.exec(ref);
  if (!m || m[2]!.split("/").some((seg) => seg === "" || seg === "." || seg === "..")) return undefined;
  return m[2];
}

/**
 * Prefixes of artifact keys a project may run: its own (`<projectId>/…`, where builds put them) and
 * the shared `artifacts/…` that operators publish (e.g. `krane pack`). Another project's keys never.
 */
export function artifactKeyAllowed(key: string, projectId: string): boolean {
  return key.startsWith(`${projectId}/`) || key.startsWith("artifacts/");
}

/** Whether `ref` is a container image reference or a build artifact reference. */
export function isImageReference(ref: string): boolean {
  if (ref.startsWith("s3://")) return artifactKeyOf(ref) !== undefined;
  if (ref.split("/").some((part) => part === ".." || part === ".")) return false;
  return imagePattern.test(ref);
}

const controlChars = /[\u0000-\u001f\u007f]/;

/** A relative path without `..`, `.` or empty segments, of safe characters. */
function isSafeRelativePath(path: string): boolean {
  if (path.startsWith("/") || !/^[A-Za-z0-9_.\-/]+$/.test(path)) return false;
  return path.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..");
}

/**
 * Validates and normalizes a CreateDeployment request (both front-ends). Throws {@link InvalidField}
 * for the first problem. `now` is Unix ms.
 */
export function validateCreateDeployment(input: CreateDeploymentInput, now: number): ValidCreateDeployment {
  const projectId = input.projectId.trim();
  if (!projectId) throw new InvalidField("project_id", "projectId", "is required");
  if (projectId.length > 64 || !/^[A-Za-z0-9_-]+$/.test(projectId))
    throw new InvalidField("project_id", "projectId", "is not a valid project id");

  const environmentSlug = input.environmentSlug.trim();
  if (!environmentSlug) throw new InvalidField("environment_slug", "environmentSlug", "is required (e.g. production or preview)");
  if (utf8Bytes(environmentSlug) > deploymentLimits.environmentSlugBytes)
    throw new InvalidField("environment_slug", "environmentSlug", `must be at most ${deploymentLimits.environmentSlugBytes} bytes`);

  const branch = input.branch.trim();
  if (utf8Bytes(branch) > deploymentLimits.branchBytes)
    throw new InvalidField("branch", "branch", `must be at most ${deploymentLimits.branchBytes} bytes`);
  if (controlChars.test(branch)) throw new InvalidField("branch", "branch", "must not contain control characters");

  if (input.sources.length !== 1) {
    throw new InvalidField(
      "source",
      "build",
      input.sources.length === 0
        ? "exactly one source is required: a build context (build_context / build.context) or an image (docker_image / image)"
        : "give exactly one source: a build context or an image, not both",
    );
  }
  const source = validateSource(input.sources[0]!, projectId);
  const git = validateGitCommit(input.gitCommit, now);
  validateCommand(input.command);
  return { projectId, branch, environmentSlug, source, git, command: input.command.length ? [...input.command] : null };
}

/** The one source of a CreateDeployment: an image (or artifact) reference, or this project's build context upload. */
function validateSource(given: CreateDeploymentInput["sources"][number], projectId: string): ValidCreateDeployment["source"] {
  if (given.kind === "image") {
    const image = given.image.trim();
    if (!image) throw new InvalidField("docker_image", "image", "must not be empty");
    if (utf8Bytes(image) > deploymentLimits.imageBytes)
      throw new InvalidField("docker_image", "image", `must be at most ${deploymentLimits.imageBytes} bytes`);
    if (!isImageReference(image))
      throw new InvalidField(
        "docker_image",
        "image",
        "is not an image reference (e.g. ghcr.io/acme/api:1.2.3 or repo@sha256:…) or an artifact reference (s3://<bucket>/<key>@sha256:<digest>)",
      );
    const artifactKey = artifactKeyOf(image);
    if (artifactKey !== undefined && !artifactKeyAllowed(artifactKey, projectId)) {
      throw new InvalidField(
        "docker_image",
        "image",
        `an artifact reference must name an object of this project (${projectId}/…) or a shared one (artifacts/…)`,
      );
    }
    return { kind: "image", image };
  }
  const path = given.path.trim();
  if (!path) throw new InvalidField("build_context.build_context_path", "build.context", "must not be empty");
  if (utf8Bytes(path) > deploymentLimits.pathBytes || !path.startsWith(`${projectId}/`) || !isSafeRelativePath(path)) {
    throw new InvalidField(
      "build_context.build_context_path",
      "build.context",
      `must be an upload key of this project (${projectId}/build_….tar.gz, from CreateS3UploadURL)`,
    );
  }
  const dockerfile = given.dockerfile?.trim() || deploymentDefaults.dockerfilePath;
  if (utf8Bytes(dockerfile) > deploymentLimits.pathBytes || !isSafeRelativePath(dockerfile)) {
    throw new InvalidField(
      "build_context.dockerfile_path",
      "build.dockerfile",
      "must be a relative path inside the build context, without '..'",
    );
  }
  return { kind: "build_context", path, dockerfile };
}

/** The optional git metadata: a hex sha, a Unix-ms timestamp not far in the future, truncated texts. */
function validateGitCommit(gitCommit: CreateDeploymentInput["gitCommit"], now: number): ValidCreateDeployment["git"] {
  const git: ValidCreateDeployment["git"] = {
    commitSha: "",
    commitMessage: null,
    authorHandle: null,
    authorAvatarUrl: null,
    timestamp: null,
  };
  if (gitCommit) {
    const c = gitCommit;
    const sha = c.commitSha.trim();
    if (sha && !/^[0-9a-fA-F]{7,64}$/.test(sha))
      throw new InvalidField("git_commit.commit_sha", "gitCommit.commitSha", "must be 7 to 64 hexadecimal characters");
    git.commitSha = sha.toLowerCase();
    if (!Number.isSafeInteger(c.timestamp))
      throw new InvalidField("git_commit.timestamp", "gitCommit.timestamp", "must be an integer of Unix milliseconds");
    if (c.timestamp !== 0) {
      if (c.timestamp < deploymentLimits.minTimestampMs)
        throw new InvalidField(
          "git_commit.timestamp",
          "gitCommit.timestamp",
          "must be Unix milliseconds; this looks like seconds (multiply by 1000)",
        );
      if (c.timestamp > now + deploymentLimits.maxClockSkewMs)
        throw new InvalidField("git_commit.timestamp", "gitCommit.timestamp", "is more than an hour in the future");
      git.timestamp = c.timestamp;
    }
    git.commitMessage = c.commitMessage ? truncateUtf8(c.commitMessage, deploymentLimits.gitCommitMessageBytes) : null;
    git.authorHandle = c.authorHandle ? truncateUtf8(c.authorHandle, deploymentLimits.gitAuthorHandleBytes) : null;
    git.authorAvatarUrl = c.authorAvatarUrl ? truncateUtf8(c.authorAvatarUrl, deploymentLimits.gitAuthorAvatarUrlBytes) : null;
  }
  return git;
}

/** The optional command override: bounded in count and size, without NUL. */
function validateCommand(command: CreateDeploymentInput["command"]): void {
  if (command.length > deploymentLimits.commandArgs)
    throw new InvalidField("command", "command", `must have at most ${deploymentLimits.commandArgs} arguments`);
  for (const arg of command) {
    if (utf8Bytes(arg) > deploymentLimits.commandArgBytes || arg.includes("\u0000")) {
      throw new InvalidField("command", "command", `each argument must be at most ${deploymentLimits.commandArgBytes} bytes, without NUL`);
    }
  }
}
