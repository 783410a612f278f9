/**
 * @ctrl/proxy: the streaming HTTP forwarding core shared by frontline and sentinel — undici
 * keep-alive pools, hop-by-hop and X-Forwarded-* header handling, body limits, retry of requests
 * that never reached an upstream, round robin with failure cooldown, a change-polling loop, and the
 * per-deployment traffic metrics the rollout analysis reads.
 */
export * from "./headers.js";
export * from "./forward.js";
export * from "./upgrade.js";
export * from "./balancer.js";
export * from "./poller.js";
export * from "./upstream-ports.js";
export * from "./target.js";
export * from "./traffic-metrics.js";
