export { findSandboxTools, installHint, SandboxUnavailableError, which, type SandboxTools } from "./bwrap.js";
export { bridgeScript, minWorkloadUid, sandboxArgv, workloadUid, type SandboxMount, type SandboxPolicy } from "./argv.js";
export { chownTree, installBridge, makeTraversable, makeWorkloadDir, reachableByWorkloads } from "./dirs.js";
export { isForbiddenAddress, startEgressProxy, type EgressProxy, type EgressProxyOptions } from "./egress-proxy.js";
export { listenOnHost, closeListener } from "./listener.js";
