import type { Db } from "@ctrl/db";
import type { Storage } from "@ctrl/s3";
import type { Vault } from "@ctrl/vault";
import type { Ingress } from "@restatedev/restate-sdk-clients";
import type { Logger } from "pino";

/** What the server needs: built in main.ts, or by a test in-process. */
export interface ApiDeps {
  db: Db;
  storage: Storage;
  restate: Ingress;
  logger: Logger;
  /** Operators' bearer token (CTRL_OPERATOR_TOKEN): every workspace, never ClusterService. */
  operatorToken: string;
  /** Frontline's bearer token (CTRL_FRONTLINE_TOKEN): AcmeService only. Agents authenticate with `agent_credentials`. */
  frontlineToken: string;
  version: string;
  instanceId: string;
  /** Platform apex of generated hostnames; custom domains may not be under it (default ctrl.localhost). */
  apexDomain?: string;
  /** Clock, injectable for tests of time rules. */
  now?: () => number;
  /** Interval of the shared per-region poller behind ClusterService.Watch* (default 50 ms). */
  clusterWatchPollMs?: number;
  /** Interval at which each WatchDeployment stream re-reads its deployment (default 200 ms). */
  deploymentWatchPollMs?: number;
  /** Decrypts stored environment variables; without it a deploy with variables fails (env_decrypt_failed). */
  vault?: Vault;
  /** Per-region agent keys (VAULT_REGION_KEYS): what a region's ApplyDeployment environment is encrypted with. */
  regionVaults?: ReadonlyMap<string, Vault>;
}
