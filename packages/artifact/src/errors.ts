/** Why fetching or describing an artifact failed. */
export type ArtifactErrorCode = "digest_mismatch" | "not_found" | "too_large" | "invalid_manifest";

/** A failure to fetch an artifact or read its manifest, with a code a caller can branch on. */
export class ArtifactError extends Error {
  override readonly name = "ArtifactError";
  constructor(
    readonly code: ArtifactErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Why {@link safeExtract} refused an archive. */
export type ExtractErrorCode =
  | "not_gzip"
  | "corrupt"
  | "absolute_path"
  | "path_traversal"
  | "link_escape"
  | "unsupported_type"
  | "duplicate_entry"
  | "compressed_too_large"
  | "extracted_too_large"
  | "too_many_files"
  | "dest_not_empty";

/** An archive {@link safeExtract} refused; the message names the offending entry or limit. */
export class ExtractError extends Error {
  override readonly name = "ExtractError";
  constructor(
    readonly code: ExtractErrorCode,
    message: string,
    /** The archive entry at fault, when there is one. */
    readonly entry?: string,
  ) {
    super(message);
  }
}
