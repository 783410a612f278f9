/**
 * What composition roots and tests need to configure CertificateService: its deps type, the DNS
 * providers, and the config helpers. (Callers of the service itself use api.ts through `./api`.)
 */
export type { CertificateDeps } from "./deps.js";
export { DAY_MS, DEFAULT_RENEW_WINDOW_MS } from "./deps.js";
export * from "./dns/index.js";
export { certificateDepsFromConfig, kickOffRenewal } from "./config.js";
export { rewrapSecrets } from "./store.js";
