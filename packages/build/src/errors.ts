/** Why a build failed; the deploy workflow stores it as the deployment's `failure_reason`. */
export type BuildErrorReason =
  | "build_not_configured"
  | "build_context_missing"
  | "build_context_invalid"
  | "build_failed"
  | "build_timeout"
  | "build_upload_failed";

/**
 * A build failure that retrying cannot fix (bad context, failing command, timeout): the step it
 * happened in, a structured reason and a message for people. Anything else thrown by the build is
 * transient (S3 or the database unreachable) and worth retrying.
 */
export class BuildError extends Error {
  override readonly name = "BuildError";
  constructor(
    readonly step: string,
    readonly reason: BuildErrorReason,
    message: string,
  ) {
    super(message);
  }
}
