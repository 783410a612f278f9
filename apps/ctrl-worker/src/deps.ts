import type { BuildConfig } from "@ctrl/build";
import type { Db } from "@ctrl/db";
import type { Storage } from "@ctrl/s3";
import type { Logger } from "pino";
import type { CertificateDeps } from "./services/certificate-service/deps.js";
import type { DomainVerificationDeps } from "./services/domain-verification-service/deps.js";
import type { WorkerSettings } from "./settings.js";

/** What every worker service receives: built in main.ts, or by a test in-process. */
export interface WorkerDeps {
  db: Db;
  storage?: Storage;
  logger: Logger;
  /** ACME, vault and DNS for CertificateService; without it the service refuses to issue. */
  certificates?: CertificateDeps;
  /** DNS resolver and recheck window of DomainVerificationService; omitted fields take the defaults. */
  domainVerification?: DomainVerificationDeps;
  /** Deploy tunables (settings.ts); omitted fields take the defaults, so tests pass small timeouts. */
  settings?: Partial<WorkerSettings>;
  /** How BuildService builds (services/build-service/config.ts); without it context deploys fail with `build_not_configured`. */
  build?: BuildConfig;
}
