import { Code, ConnectError } from "@connectrpc/connect";
import { HttpApiError } from "../http/v2/envelope.js";

/**
 * An invalid request field, shared by the RPC and the public HTTP front-ends: the RPC sees
 * `invalid_argument` with `<rpc_field>: <reason>`, the HTTP API a 400 whose `errors[]` points at
 * `body.<httpField>`.
 */
export class InvalidField extends ConnectError {
  constructor(
    readonly rpcField: string,
    readonly httpField: string,
    readonly reason: string,
  ) {
    super(`${rpcField}: ${reason}`, Code.InvalidArgument);
  }
}

/**
 * Whether `err` is an {@link InvalidField}. Not `instanceof`: ConnectError's `Symbol.hasInstance`
 * accepts any ConnectError-shaped value, subclasses included.
 */
export function isInvalidField(err: unknown): err is InvalidField {
  return err instanceof ConnectError && typeof (err as Partial<InvalidField>).httpField === "string";
}

const httpStatus: Partial<Record<Code, [number, string]>> = {
  [Code.InvalidArgument]: [400, "Bad Request"],
  [Code.Unauthenticated]: [401, "Unauthorized"],
  [Code.PermissionDenied]: [403, "Forbidden"],
  [Code.NotFound]: [404, "Not Found"],
  [Code.AlreadyExists]: [409, "Conflict"],
  [Code.Aborted]: [409, "Conflict"],
  [Code.FailedPrecondition]: [412, "Precondition Failed"],
  [Code.Unavailable]: [503, "Service Unavailable"],
};

/**
 * The public API's rendering of an error thrown by the shared deployment logic. Anything that is
 * not a ConnectError with a client-facing code is rethrown (the envelope's error handler logs it
 * and answers 500).
 */
export function httpErrorFrom(err: unknown): HttpApiError {
  if (err instanceof HttpApiError) return err;
  if (isInvalidField(err))
    return new HttpApiError(400, "Bad Request", `body.${err.httpField}: ${err.reason}`, [
      { location: `body.${err.httpField}`, message: err.reason },
    ]);
  if (err instanceof ConnectError) {
    const mapped = httpStatus[err.code];
    if (mapped) return new HttpApiError(mapped[0], mapped[1], err.rawMessage);
  }
  throw err;
}
