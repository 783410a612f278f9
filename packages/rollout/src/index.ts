export { parseDuration, formatDuration } from "./duration.js";
export {
  rolloutStrategies,
  failureActions,
  defaultRolloutPolicy,
  parseRolloutPolicy,
  policySpecOf,
  policyFromJson,
  policyToJson,
} from "./policy.js";
export type {
  RolloutStrategy,
  FailureAction,
  CanaryStep,
  AnalysisPolicy,
  RolloutPolicy,
  RolloutPolicySpec,
  PolicyFieldError,
  PolicyParse,
} from "./policy.js";
export { planBatches, cutoverWeights } from "./plan.js";
export {
  metricNames,
  durationBucketsSeconds,
  emptyCounters,
  parsePrometheusText,
  countersFor,
  countersDelta,
  quantileMs,
} from "./metrics.js";
export type { TrafficCounters } from "./metrics.js";
export { evaluateAnalysis } from "./analysis.js";
export type { AnalysisResult } from "./analysis.js";
export { stickyCookieName, chooseVersion, readCookie } from "./weights.js";
export type { TrafficSplit, VersionChoice } from "./weights.js";
export {
  rolloutStates,
  controlStates,
  terminalRolloutStates,
  isTerminalRollout,
  decideControl,
  failureKinds,
  targetStates,
} from "./state.js";
export type {
  RolloutState,
  ControlState,
  ControlOperation,
  ControlDecision,
  FailureKind,
  FailureDetail,
  TargetState,
  RolloutTarget,
} from "./state.js";
