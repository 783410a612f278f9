/** Where an artifact lives and the digest it must have. */
export interface ArtifactRef {
  bucket: string;
  key: string;
  /** Lowercase hex sha256 of the `.tar.gz` bytes. */
  sha256: string;
}

const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const digestPattern = /^[0-9a-f]{64}$/;
// Control characters and backslashes never appear in keys we write; refusing them keeps a reference printable.
// eslint-disable-next-line no-control-regex
const badKeyChars = /[\u0000-\u001f\u007f\\]/;

/** `s3://<bucket>/<key>@sha256:<64 hex>`: the image reference of an artifact deployment. */
export function formatArtifactRef(ref: ArtifactRef): string {
  const problem = refProblem(ref);
  if (problem) throw new Error(`cannot format artifact reference: ${problem}`);
  return `s3://${ref.bucket}/${ref.key}@sha256:${ref.sha256}`;
}

/**
 * Parses an artifact reference. Undefined means "not an artifact" (e.g. a container image, or a
 * malformed `s3://` reference); {@link artifactRefProblem} says why.
 */
export function parseArtifactRef(image: string): ArtifactRef | undefined {
  return parse(image).ref;
}

/** Why `image` is not an artifact reference this format accepts, or undefined when it is one. */
export function artifactRefProblem(image: string): string | undefined {
  return parse(image).problem;
}

function parse(image: string): { ref?: ArtifactRef; problem?: string } {
  if (!image.startsWith("s3://")) {
    return {
      problem: `"${truncate(image)}" is not an artifact reference (expected s3://<bucket>/<key>@sha256:<digest>; container images need a container driver)`,
    };
  }
  const rest = image.slice("s3://".length);
  const at = rest.lastIndexOf("@sha256:");
  if (at < 0) return { problem: `artifact reference "${truncate(image)}" has no @sha256:<digest>` };
  const location = rest.slice(0, at);
  const sha256 = rest.slice(at + "@sha256:".length);
  const slash = location.indexOf("/");
  if (slash < 0) return { problem: `artifact reference "${truncate(image)}" has no object key` };
  const ref = { bucket: location.slice(0, slash), key: location.slice(slash + 1), sha256 };
  const problem = refProblem(ref);
  return problem ? { problem: `artifact reference "${truncate(image)}": ${problem}` } : { ref };
}

function refProblem(ref: ArtifactRef): string | undefined {
  if (!bucketPattern.test(ref.bucket)) return `bucket "${ref.bucket}" is not a valid bucket name`;
  if (!ref.key || ref.key.length > 1024) return "object key must be 1–1024 characters";
  if (badKeyChars.test(ref.key)) return "object key contains control characters or backslashes";
  if (ref.key.split("/").some((s) => s === ".." || s === ".")) return "object key contains . or .. segments";
  if (!digestPattern.test(ref.sha256)) return "digest must be 64 lowercase hex characters";
  return undefined;
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
