import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Options of {@link writeSelfSignedCertificate}. */
export interface SelfSignedCertificate {
  certPath: string;
  keyPath: string;
  days: number;
  /** E.g. `/CN=localhost`. */
  subject: string;
  /** E.g. `DNS:localhost,IP:127.0.0.1`; none for a CA. */
  altNames?: string;
}

/**
 * Writes a self-signed ECDSA P-256 certificate and its key with openssl: Pebble's own HTTPS
 * certificate (tests and the local stack) and the benchmark's CA use the same command.
 */
export async function writeSelfSignedCertificate(options: SelfSignedCertificate): Promise<void> {
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    options.keyPath,
    "-out",
    options.certPath,
    "-days",
    String(options.days),
    "-subj",
    options.subject,
    ...(options.altNames ? ["-addext", `subjectAltName=${options.altNames}`] : []),
  ]);
}
