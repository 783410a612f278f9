import type { MessageInitShape } from "@bufbuild/protobuf";
import { findDeploymentRollout, type Db, type DeploymentRolloutRow } from "@ctrl/db";
import type { DeploymentRolloutSchema } from "@ctrl/proto";
import { policyFromJson, type FailureDetail, type RolloutTarget } from "@ctrl/rollout";
import { policyWire, type PolicyWire } from "./rollout-policy.js";

/**
 * A deployment's rollout as GetDeployment shows it on both surfaces (Connect and `/v2`): built from
 * its `deployment_rollouts` row and the policy snapshotted onto the deployment. Times are Unix ms
 * (0 = not yet); the Connect message carries the same fields.
 */
export interface RolloutView {
  deploymentId: string;
  strategy: string;
  state: string;
  controlState: string;
  /** Regions cut over. */
  completedTargets: string[];
  /** Regions that failed. */
  failedTargets: string[];
  /** Regions not cut over yet (pending, starting, ready, cutting over). */
  remainingTargets: string[];
  failureDetails: { target: string; kind: string; message: string; observed: Record<string, number> }[];
  targets: { region: string; state: string; weight: number; startedAt: number; cutOverAt: number }[];
  checkpoint: { batchIndex: number; batchCount: number; stepIndex: number; updatedAt: number };
  policy: PolicyWire;
  previousDeploymentId: string;
  lastAnalysis?: {
    region: string;
    verdict: string;
    requests: number;
    errorRate: number;
    p99LatencyMs: number;
    breaches: string[];
    measuredAt: number;
  };
  /** Moves with every change of the row (progress or control). */
  revision: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number;
}

/** The rollout view of a deployment, or undefined when it has no rollout (yet). */
export async function loadRolloutView(db: Db, deploymentId: string, policyJson: string | null): Promise<RolloutView | undefined> {
  const row = await findDeploymentRollout(db, deploymentId);
  return row ? rolloutView(row, policyJson) : undefined;
}

/** The one builder of {@link RolloutView}: JSON columns are read defensively (a half-written value shows as empty). */
export function rolloutView(row: DeploymentRolloutRow, policyJson: string | null): RolloutView {
  const targets = jsonArray<Partial<RolloutTarget>>(row.targets).map((t) => ({
    region: String(t.region ?? ""),
    state: String(t.state ?? "pending"),
    weight: num(t.weight),
    startedAt: num(t.startedAt),
    cutOverAt: num(t.cutOverAt),
  }));
  const regionsIn = (...states: string[]) => targets.filter((t) => states.includes(t.state)).map((t) => t.region);
  const checkpoint = jsonObject(row.checkpoint);
  const analysis = row.last_analysis ? jsonObject(row.last_analysis) : undefined;
  return {
    deploymentId: row.deployment_id,
    strategy: row.strategy,
    state: row.state,
    controlState: row.control_state,
    completedTargets: regionsIn("cut_over"),
    failedTargets: regionsIn("failed"),
    remainingTargets: regionsIn("pending", "starting", "ready", "cutting_over"),
    failureDetails: jsonArray<Partial<FailureDetail>>(row.failure_details).map((f) => ({
      target: String(f.target ?? ""),
      kind: String(f.kind ?? ""),
      message: String(f.message ?? ""),
      observed: Object.fromEntries(Object.entries(f.observed ?? {}).filter(([, v]) => typeof v === "number" && Number.isFinite(v))),
    })),
    targets,
    checkpoint: {
      batchIndex: num(checkpoint.batchIndex),
      batchCount: num(checkpoint.batchCount),
      stepIndex: num(checkpoint.stepIndex),
      updatedAt: num(checkpoint.updatedAt),
    },
    policy: policyWire(policyFromJson(policyJson)),
    previousDeploymentId: row.previous_deployment_id ?? "",
    ...(analysis && Object.keys(analysis).length > 0
      ? {
          lastAnalysis: {
            region: String(analysis.region ?? ""),
            verdict: String(analysis.verdict ?? ""),
            requests: num(analysis.requests),
            errorRate: num(analysis.errorRate),
            p99LatencyMs: num(analysis.p99LatencyMs),
            breaches: Array.isArray(analysis.breaches) ? analysis.breaches.map(String) : [],
            measuredAt: num(analysis.measuredAt),
          },
        }
      : {}),
    revision: row.revision,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    finishedAt: Number(row.finished_at ?? 0),
  };
}

/** The Connect `DeploymentRollout` of a view. */
export function rolloutMessage(view: RolloutView): MessageInitShape<typeof DeploymentRolloutSchema> {
  return {
    strategy: view.strategy,
    state: view.state,
    controlState: view.controlState,
    completedTargets: view.completedTargets,
    failedTargets: view.failedTargets,
    remainingTargets: view.remainingTargets,
    failureDetails: view.failureDetails,
    targets: view.targets.map((t) => ({
      region: t.region,
      state: t.state,
      weight: Math.max(0, Math.min(100, Math.round(t.weight))),
      startedAt: BigInt(Math.round(t.startedAt)),
      cutOverAt: BigInt(Math.round(t.cutOverAt)),
    })),
    checkpoint: {
      batchIndex: Math.max(0, Math.round(view.checkpoint.batchIndex)),
      batchCount: Math.max(0, Math.round(view.checkpoint.batchCount)),
      stepIndex: Math.max(0, Math.round(view.checkpoint.stepIndex)),
      updatedAt: BigInt(Math.round(view.checkpoint.updatedAt)),
    },
    policy: view.policy,
    previousDeploymentId: view.previousDeploymentId,
    ...(view.lastAnalysis
      ? {
          lastAnalysis: {
            ...view.lastAnalysis,
            requests: Math.max(0, Math.round(view.lastAnalysis.requests)),
            measuredAt: BigInt(Math.round(view.lastAnalysis.measuredAt)),
          },
        }
      : {}),
  };
}

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

function parse(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function jsonArray<T>(text: string | null): T[] {
  const value = parse(text);
  return Array.isArray(value) ? (value.filter((v) => v && typeof v === "object") as T[]) : [];
}

function jsonObject(text: string | null): Record<string, unknown> {
  const value = parse(text);
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
