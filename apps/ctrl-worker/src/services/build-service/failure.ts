import * as restate from "@restatedev/restate-sdk";
import { workerErrorStatus } from "../../contract.js";
import { formatBuildFailure, type BuildFailure } from "./api.js";

/** The TerminalError of a failed build (HTTP 412, message parseable by `parseBuildFailure`). */
export function buildFailureError(failure: BuildFailure): restate.TerminalError {
  return new restate.TerminalError(formatBuildFailure(failure), { errorCode: workerErrorStatus.failed_precondition });
}
