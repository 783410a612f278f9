import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AcmeService } from "@ctrl/proto";

/** The answer to an HTTP-01 challenge lookup. */
export type AcmeLookup = { found: true; keyAuthorization: string } | { found: false };

/** Looks up the key authorization for `token` on `domain` (ctrl-api's `AcmeService.VerifyCertificate`). */
export type AcmeVerifier = (domain: string, token: string) => Promise<AcmeLookup>;

/** Options of {@link createAcmeVerifier}. */
export interface AcmeVerifierOptions {
  /** ctrl-api's HTTP/1.1 base URL. */
  baseUrl: string;
  /** Frontline's credential for ctrl-api (CTRL_FRONTLINE_TOKEN): AcmeService only. */
  token: string;
  /** Deadline of one lookup; the ACME server retries a failed validation fetch. */
  timeoutMs: number;
}

/**
 * A Connect client for `AcmeService.VerifyCertificate`. `not_found` becomes `{found: false}` (404 to
 * the ACME server); every other error propagates (502), including `unimplemented` while ctrl-api
 * has no AcmeService.
 */
export function createAcmeVerifier(options: AcmeVerifierOptions): AcmeVerifier {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${options.token}`);
    return next(req);
  };
  const client = createClient(AcmeService, createConnectTransport({ baseUrl: options.baseUrl, httpVersion: "1.1", interceptors: [auth] }));
  return async (domain, token) => {
    try {
      const res = await client.verifyCertificate({ domain, token }, { timeoutMs: options.timeoutMs });
      return { found: true, keyAuthorization: res.authorization };
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.NotFound) return { found: false };
      throw err;
    }
  };
}
