/**
 * Whether `image` is a reference a sentinel can run: an artifact reference
 * (`s3://bucket/key@sha256:<64 hex>`, what the process driver runs) or an OCI image reference
 * (`registry[:port]/path[:tag][@sha256:…]`, what the Kubernetes driver runs). Returns the problem,
 * or undefined when it is valid.
 */
export function imageRefProblem(image: unknown): string | undefined {
  if (typeof image !== "string" || image.length === 0) return "image is required";
  if (image.length > 2048) return "image must be at most 2048 characters";
  if (image.startsWith("s3://")) {
    return /^s3:\/\/[a-z0-9][a-z0-9.-]{1,62}\/[A-Za-z0-9!_.*'()/-]+@sha256:[0-9a-f]{64}$/.test(image)
      ? undefined
      : "an artifact image must look like s3://<bucket>/<key>@sha256:<64 lowercase hex digits>";
  }
  const oci =
    /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
  return oci.test(image)
    ? undefined
    : "image must be an artifact reference (s3://bucket/key@sha256:…) or an OCI image reference (registry/repository[:tag][@sha256:…])";
}
