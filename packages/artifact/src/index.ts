/**
 * @ctrl/artifact: the artifact format the `process` driver runs and the builders produce — a
 * deterministic `.tar.gz` in S3 with a `ctrl.json` manifest at its root, referenced as
 * `s3://<bucket>/<key>@sha256:<digest>` — plus verified download and safe extraction.
 */
export * from "./errors.js";
export * from "./ref.js";
export * from "./manifest.js";
export * from "./env.js";
export { packDirectory, sha256File, type PackOptions } from "./pack.js";
export { uploadArtifact, downloadArtifact, type DownloadOptions } from "./transfer.js";
export { safeExtract, defaultExtractLimits, type ExtractLimits } from "./extract.js";
export type { Storage } from "@ctrl/s3";
