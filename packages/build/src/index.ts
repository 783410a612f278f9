/**
 * @ctrl/build: turning a build context into something runnable. Safe fetching and extraction of
 * contexts, the local artifact builder (no Docker needed), the Docker backend's command
 * construction, and build step/log reporting. Used by ctrl-worker's BuildService.
 */
export * from "./build.js";
export * from "./errors.js";
export * from "./steps.js";
export * from "./limits.js";
export * from "./plan.js";
export * from "./runner.js";
export * from "./sandbox.js";
export * from "./fetch-context.js";
export * from "./docker.js";
export * from "./db-reporter.js";
export { buildSandboxTools, openBuildSandbox, type BuildSandbox, type BuildSandboxLimits } from "./isolation.js";
