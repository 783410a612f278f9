import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  findDeploymentById,
  latestHaltOf,
  listDeploymentSteps,
  listDeploymentTopology,
  listEnvironmentVariableKeys,
  listHostnamesOfDeployments,
  type Db,
  type DeploymentHalt,
  type Deployment as DeploymentRow,
  type DeploymentStatus as RowStatus,
  type DeploymentStep as StepRow,
} from "@ctrl/db";
import { DeploymentStatus, type DeploymentSchema, type DeploymentStepSchema } from "@ctrl/proto";
import { haltMessage, publicHalt } from "./halt-view.js";

/** Proto enum of each row status. */
export const protoStatus: Record<RowStatus, DeploymentStatus> = {
  pending: DeploymentStatus.PENDING,
  building: DeploymentStatus.BUILDING,
  deploying: DeploymentStatus.DEPLOYING,
  ready: DeploymentStatus.READY,
  failed: DeploymentStatus.FAILED,
  cancelled: DeploymentStatus.CANCELLED,
};

/** What GetDeployment shows instead of an environment variable's value. */
export const redactedValue = "[redacted]";

/** The public API's status names (the proto enum without its prefix). */
export const publicStatus: Record<RowStatus, string> = {
  pending: "PENDING",
  building: "BUILDING",
  deploying: "DEPLOYING",
  ready: "READY",
  failed: "FAILED",
  cancelled: "CANCELLED",
};

/** A deployment with what GetDeployment shows next to the row. */
export interface DeploymentView {
  row: DeploymentRow;
  steps: StepRow[];
  hostnames: string[];
  regions: { region: string; replicas: number }[];
  /** Names of the environment's variables (values are never loaded here). */
  envKeys?: string[];
  /** The deployment's latest halt and what the supervisor did (docs/halt-contract.md). */
  halt?: DeploymentHalt;
}

/** Loads a deployment with its steps (in order), hostnames and topology, or undefined. */
export async function loadDeploymentView(db: Db, deploymentId: string): Promise<DeploymentView | undefined> {
  const row = await findDeploymentById(db, deploymentId);
  if (!row) return undefined;
  const [steps, hostnames, regions, envKeys, halt] = await Promise.all([
    listDeploymentSteps(db, deploymentId),
    listHostnamesOfDeployments(db, [deploymentId]),
    listDeploymentTopology(db, deploymentId),
    listEnvironmentVariableKeys(db, row.environment_id),
    latestHaltOf(db, deploymentId),
  ]);
  return {
    row,
    steps,
    hostnames: hostnames.get(deploymentId) ?? [],
    regions: regions.map((r) => ({ region: r.region, replicas: r.desired_replicas })),
    envKeys,
    ...(halt ? { halt } : {}),
  };
}

/** One step as the proto shows it. */
export function stepMessage(step: StepRow): MessageInitShape<typeof DeploymentStepSchema> {
  return {
    step: step.step,
    status: step.status,
    message: step.message,
    errorMessage: step.error_message ?? "",
    createdAt: BigInt(step.started_at),
    endedAt: BigInt(step.ended_at ?? 0),
  };
}

/** The proto `Deployment` of a view (steps and regions may be empty, e.g. in a list). */
export function deploymentMessage(view: Partial<DeploymentView> & { row: DeploymentRow }): MessageInitShape<typeof DeploymentSchema> {
  const d = view.row;
  return {
    id: d.id,
    workspaceId: d.workspace_id,
    projectId: d.project_id,
    environmentId: d.environment_id,
    gitCommitSha: d.git_commit_sha,
    gitBranch: d.git_branch,
    status: protoStatus[d.status] ?? DeploymentStatus.UNSPECIFIED,
    errorMessage: d.error_message ?? "",
    // Keys only: values never leave the API in plaintext.
    environmentVariables: Object.fromEntries((view.envKeys ?? []).map((k) => [k, redactedValue])),
    topology: {
      cpuMillicores: d.cpu_millicores,
      memoryMib: d.memory_mib,
      regions: (view.regions ?? []).map((r) => ({ region: r.region, minInstances: r.replicas, maxInstances: r.replicas })),
      idleTimeoutSeconds: 0,
      healthCheckPath: d.health_check_path,
      port: d.port,
    },
    createdAt: BigInt(d.created_at),
    updatedAt: BigInt(d.updated_at),
    hostnames: view.hostnames ?? [],
    rootfsImageId: "",
    buildId: d.build_id ?? "",
    steps: (view.steps ?? []).map(stepMessage),
    gitCommitMessage: d.git_commit_message ?? "",
    gitCommitAuthorHandle: d.git_commit_author_handle ?? "",
    gitCommitAuthorAvatarUrl: d.git_commit_author_avatar_url ?? "",
    gitCommitTimestamp: BigInt(d.git_commit_timestamp ?? 0),
    image: d.image ?? "",
    failedStep: d.failed_step ?? "",
    failureReason: d.failure_reason ?? "",
    ...(view.halt ? { halt: haltMessage(view.halt) } : {}),
  };
}

/** The public API's `getDeployment` body: `{id, status, hostnames?, errorMessage?, steps?}`. */
export function publicDeployment(view: DeploymentView) {
  const d = view.row;
  return {
    id: d.id,
    status: publicStatus[d.status] ?? "UNSPECIFIED",
    ...(view.hostnames.length ? { hostnames: view.hostnames } : {}),
    ...(d.error_message ? { errorMessage: d.error_message } : {}),
    ...(view.steps.length
      ? {
          steps: view.steps.map((s) => ({
            step: s.step,
            status: s.status,
            message: s.message,
            ...(s.error_message ? { errorMessage: s.error_message } : {}),
            createdAt: s.started_at,
            ...(s.ended_at !== null ? { endedAt: s.ended_at } : {}),
          })),
        }
      : {}),
    ...(view.halt ? { halt: publicHalt(view.halt) } : {}),
  };
}
