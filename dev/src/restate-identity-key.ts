/**
 * Makes (when missing) an ed25519 request-identity key for restate-server and prints its public key
 * in the form ctrl-worker's RESTATE_IDENTITY_KEYS takes (`publickeyv1_…`).
 *
 *   node --import tsx dev/src/restate-identity-key.ts <private-key.pem> [<public-key file>]
 *
 * Give restate-server the PEM (`request-identity-private-key-pem-file`), the worker the printed key.
 * An existing PEM (e.g. from `openssl genpkey -algorithm ed25519`) is only read, never replaced.
 */
import { generateRestateIdentity, restateIdentityFromPem } from "@ctrl/testing";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const [pemFile, publicFile] = process.argv.slice(2);
if (!pemFile) {
  console.error("usage: node --import tsx dev/src/restate-identity-key.ts <private-key.pem> [<public-key file>]");
  process.exit(2);
}
if (!existsSync(pemFile)) writeFileSync(pemFile, generateRestateIdentity().privateKeyPem, { mode: 0o600 });
const { publicKey } = restateIdentityFromPem(readFileSync(pemFile, "utf8"));
if (publicFile) writeFileSync(publicFile, `${publicKey}\n`);
console.log(publicKey);
