export { findSandboxTools, installHint, SandboxUnavailableError, which, type SandboxTools } from "./bwrap.js";
export { bridgeScript, minWorkloadUid, sandboxArgv, workloadUid, type SandboxMount, type SandboxPolicy } from "./argv.js";
export { installBridge, makeTraversable, makeWorkloadDir } from "./dirs.js";
export { isForbiddenAddress, startEgressProxy, type EgressProxy, type EgressProxyOptions } from "./egress-proxy.js";
export { listenOnHost, closeListener } from "./listener.js";
