import { Code, ConnectError } from "@connectrpc/connect";
import { parseWorkerError, workerErrorCodeOf, type WorkerErrorCode } from "@ctrl/ctrl-worker/contract";
import { HttpCallError } from "@restatedev/restate-sdk-clients";

/**
 * The Connect code of each worker error code. The code travels as the TerminalError's HTTP status;
 * `@ctrl/ctrl-worker/contract` holds the code ↔ status table and its parser, shared with the worker.
 */
const connectCodes: Record<WorkerErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  permission_denied: Code.PermissionDenied,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
};

/** The body restate-server's ingress sends with a failed call. */
interface IngressErrorBody {
  code?: number;
  message?: string;
  /** `invocation` when the handler itself failed (a TerminalError), `ingress` when restate refused the call. */
  source?: string;
}

function parseBody(text: string): IngressErrorBody {
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as IngressErrorBody) : {};
  } catch {
    return {};
  }
}

/**
 * Turns a failed Restate ingress call into the ConnectError the caller should see.
 *
 * - A TerminalError of the invocation (body `source: "invocation"`) keeps its own meaning:
 *   400→invalid_argument, 403→permission_denied, 404→not_found, 409→already_exists,
 *   412→failed_precondition, with the `code: ` prefix stripped from the message. Any other status of
 *   an invocation is a bug in the worker and stays `internal`.
 * - A refusal of the ingress itself (e.g. 404 "service not found" because the worker is not
 *   registered, 5xx, 429) and a network failure are `unavailable`: the caller may retry; it never
 *   masquerades as the business error "not found".
 *
 * `what` names the call for the message ("rollback of project proj_…").
 */
export function connectErrorFromRestate(err: unknown, what: string): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof HttpCallError) {
    const body = parseBody(err.responseText);
    const message = (body.message ?? err.responseText ?? "").trim();
    const source = body.source ?? (workerErrorCodeOf(message) ? "invocation" : "ingress");
    if (source === "invocation") {
      const failure = parseWorkerError(body.code ?? err.status, message);
      if (failure) return new ConnectError(failure.message, connectCodes[failure.code], undefined, undefined, err);
      return new ConnectError(`${what} failed: ${message}`, Code.Internal, undefined, undefined, err);
    }
    return new ConnectError(
      `${what}: the workflow engine refused the call (HTTP ${err.status}: ${message}); try again shortly`,
      Code.Unavailable,
      undefined,
      undefined,
      err,
    );
  }
  const reason =
    err instanceof Error
      ? `${err.message}${(err.cause as Error | undefined)?.message ? ` (${(err.cause as Error).message})` : ""}`
      : String(err);
  return new ConnectError(
    `${what}: the workflow engine is unreachable (${reason}); try again shortly`,
    Code.Unavailable,
    undefined,
    undefined,
    err,
  );
}
