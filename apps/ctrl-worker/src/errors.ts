import * as restate from "@restatedev/restate-sdk";
import { formatWorkerError, workerErrorStatus, type WorkerErrorCode } from "./contract.js";

/**
 * Error codes a service's TerminalError carries; the code table (code → HTTP status) and its parser
 * live in contract.ts, which ctrl-api shares, so the mapping exists once.
 */
export type DomainErrorCode = WorkerErrorCode;

/** A business-rule failure: never retried, reaches the caller with its own code (as the HTTP status). */
export function terminal(code: DomainErrorCode, message: string): restate.TerminalError {
  return new restate.TerminalError(formatWorkerError(code, message), { errorCode: workerErrorStatus[code] });
}
