import { terminal } from "../../errors.js";
import type { SentinelChange, TopologyChange } from "./api.js";

// Checked before the transaction: input the database would reject (a 65-character id, a negative
// replica count) must fail terminally. As a retried error it would block the region's exclusive
// handler, and with it every later version of the region.

const idMax = 64;

function id(value: unknown, field: string): void {
  if (typeof value !== "string" || value.length === 0 || value.length > idMax) {
    throw terminal("invalid_argument", `${field} must be a non-empty string of at most ${idMax} characters`);
  }
}

function count(value: unknown, field: string, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw terminal("invalid_argument", `${field} must be an integer between 0 and ${max}`);
  }
}

/** The object key: a region name that fits the `region` columns. */
export function validateRegion(region: string): void {
  id(region, "region (the object key)");
}

/** Rejects a topology change the tables cannot hold. */
export function validateTopologyChange(change: TopologyChange): void {
  if (typeof change !== "object" || change === null) throw terminal("invalid_argument", "a topology change object is required");
  id(change.workspaceId, "workspaceId");
  id(change.deploymentId, "deploymentId");
  count(change.desiredReplicas, "desiredReplicas", 10_000);
  if (change.desiredStatus !== "running" && change.desiredStatus !== "stopped") {
    throw terminal("invalid_argument", `desiredStatus must be "running" or "stopped"`);
  }
}

/** Rejects a sentinel change the tables cannot hold. */
export function validateSentinelChange(change: SentinelChange): void {
  if (typeof change !== "object" || change === null) throw terminal("invalid_argument", "a sentinel change object is required");
  id(change.sentinelId, "sentinelId");
  if (change.image !== undefined && (typeof change.image !== "string" || change.image.length === 0 || change.image.length > 2048)) {
    throw terminal("invalid_argument", "image must be a non-empty string of at most 2048 characters");
  }
  if (change.desiredReplicas !== undefined) count(change.desiredReplicas, "desiredReplicas", 10_000);
  if (change.desiredState !== undefined && !["running", "standby", "archived"].includes(change.desiredState)) {
    throw terminal("invalid_argument", `desiredState must be "running", "standby" or "archived"`);
  }
  if (change.create !== undefined) {
    id(change.create.workspaceId, "create.workspaceId");
    id(change.create.projectId, "create.projectId");
    id(change.create.environmentId, "create.environmentId");
    if (typeof change.create.k8sName !== "string" || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(change.create.k8sName)) {
      throw terminal("invalid_argument", "create.k8sName must be a DNS-1123 label (lowercase alphanumerics and '-', at most 63)");
    }
    count(change.create.cpuMillicores, "create.cpuMillicores", 1_000_000);
    count(change.create.memoryMib, "create.memoryMib", 10_000_000);
  }
}
