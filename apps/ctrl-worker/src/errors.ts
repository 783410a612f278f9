import * as restate from "@restatedev/restate-sdk";

/**
 * Error codes a workflow's TerminalError carries; ctrl-api maps them to Connect codes. Keep the
 * names aligned with Connect's (`not_found` → 404 etc.) so the mapping stays one table.
 */
export type DomainErrorCode = "invalid_argument" | "not_found" | "failed_precondition" | "already_exists" | "permission_denied";

const httpCodes: Record<DomainErrorCode, number> = {
  invalid_argument: 400,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 412,
};

/** A business-rule failure: never retried, reaches the caller with its own code. */
export function terminal(code: DomainErrorCode, message: string): restate.TerminalError {
  return new restate.TerminalError(`${code}: ${message}`, { errorCode: httpCodes[code] });
}

/** Recovers the domain code from a TerminalError message produced by {@link terminal}. */
export function domainCodeOf(message: string): DomainErrorCode | undefined {
  const m = /^(invalid_argument|not_found|failed_precondition|already_exists|permission_denied): /.exec(message);
  return m?.[1] as DomainErrorCode | undefined;
}
