/**
 * @ctrl/stack: the whole-stack test harness, for the tests that need more than one app
 * (packages/stack/test) and for bench/. Each app keeps the harness that starts only itself (ctrl-api's
 * `startTestStack`, krane's `startAgent`, frontline's `startFrontlineProcess`); this package composes
 * them and is the one place those tests and benchmarks import them from.
 */
export { stackTransport, startTestStack, type AgentBounds, type TestStack, type TestStackOptions } from "@ctrl/ctrl-api/testing";
export { startCertStack, type CertStack, type CertStackOptions } from "@ctrl/ctrl-api/cert-testing";
export {
  bearer,
  clients,
  createWorkspace,
  failure,
  FakeAgent,
  runningOnSight,
  startDeployStack,
  type AgentBehaviour,
  type WorkerSettings,
} from "@ctrl/ctrl-api/fake-agent";
export {
  getJson,
  helloDir,
  hostPid,
  hostPidOf,
  pidAlive,
  pushArtifact,
  startAgent,
  stopAgentsAndInstances,
  stopRecordedInstances,
  type AgentOptions,
  type AgentProcess,
} from "@ctrl/krane/testing";
export {
  startFrontlineInProcess,
  startFrontlineProcess,
  testSettings,
  type FrontlineProcess,
  type InProcessFrontline,
} from "@ctrl/frontline/testing";
export { bundleSentinelForTest, startSentinelProcess, type SentinelProcess } from "@ctrl/sentinel/testing";
export { fleetClient, insertSentinelFleet, operatorAuth, startFakeSentinelAgents } from "@ctrl/ctrl-api/fake-sentinel-agent";
export { startSentinelDeployProbe } from "@ctrl/ctrl-worker/sentinel-deploy-probe";
export * from "./system.js";
export * from "./regions.js";
