/**
 * The ctrl.v1 contract: generated message schemas and service descriptors (protoc-gen-es v2).
 * Generated code lives in ./gen (git-ignored, produced by `pnpm generate`).
 */
export * from "./gen/ctrl/v1/service_pb.js";
export * from "./gen/ctrl/v1/deployment_pb.js";
export * from "./gen/ctrl/v1/cluster_pb.js";
export * from "./gen/ctrl/v1/acme_pb.js";
export * from "./gen/ctrl/v1/domain_pb.js";
export * from "./gen/ctrl/v1/sentinel_rollout_pb.js";
export * from "./gen/ctrl/v1/rollout_pb.js";
export * from "./gen/ctrl/v1/halt_pb.js";
export * from "./gen/ctrl/v1/environment_pb.js";
export * from "./gen/ctrl/v1/project_pb.js";
export * from "./gen/ctrl/v1/root_key_pb.js";
