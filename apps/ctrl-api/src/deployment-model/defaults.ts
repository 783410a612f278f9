/**
 * The resources a deployment gets when the request does not say (the only place these live).
 * The worker reads them from the `deployments` row; agents receive them in `ApplyDeployment`.
 */
export const deploymentDefaults = {
  /** A quarter of a core. */
  cpuMillicores: 250,
  memoryMib: 256,
  /** Per region. Production gets one too: scaling is a later, explicit setting. */
  replicas: 1,
  /** The port the instance listens on (passed to it as PORT). */
  port: 8080,
  healthCheckPath: "/health",
  dockerfilePath: "Dockerfile",
  /** The branch when neither the request nor the project names one. */
  branch: "main",
} as const;

/** Input limits of CreateDeployment (docs/wire.md "Behaviour the reference has and we keep"). */
export const deploymentLimits = {
  /** Git metadata is cut (not rejected) to these many UTF-8 bytes. */
  gitCommitMessageBytes: 10_240,
  gitAuthorHandleBytes: 256,
  gitAuthorAvatarUrlBytes: 512,
  /** A commit timestamp below this is in seconds, not milliseconds. */
  minTimestampMs: 1e12,
  /** How far in the future a commit timestamp may be. */
  maxClockSkewMs: 60 * 60 * 1000,
  branchBytes: 255,
  environmentSlugBytes: 255,
  imageBytes: 2048,
  pathBytes: 1024,
  commandArgs: 64,
  commandArgBytes: 4096,
} as const;

/** ListDeployments page sizes. */
export const listLimits = { defaultPageSize: 50, maxPageSize: 100 } as const;
