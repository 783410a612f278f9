import type { Db } from "@ctrl/db";
import type { Storage } from "@ctrl/s3";
import type { Logger } from "pino";

/** What every worker service receives: built in main.ts, or by a test in-process. */
export interface WorkerDeps {
  db: Db;
  storage?: Storage;
  logger: Logger;
}
