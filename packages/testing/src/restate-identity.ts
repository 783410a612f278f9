import { base58 } from "@ctrl/db";
import { generateKeyPairSync } from "node:crypto";

/**
 * A Restate request-identity key pair: restate-server signs every request to a service endpoint
 * with the private key (`request-identity-private-key-pem-file`), and the endpoint accepts only
 * requests signed by one of its `identityKeys` (the SDK answers 401 otherwise).
 */
export interface RestateIdentity {
  /** PKCS#8 PEM of the ed25519 private key: restate-server's `request-identity-private-key-pem-file`. */
  privateKeyPem: string;
  /** `publickeyv1_<base58 of the raw 32-byte public key>`: the worker's `RESTATE_IDENTITY_KEYS`. */
  publicKey: string;
}

/** Generates a fresh ed25519 identity (tests and the local stack make one per restate-server). */
export function generateRestateIdentity(): RestateIdentity {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  // The JWK `x` member is the raw public key (RFC 8037), which is what `publickeyv1_` encodes.
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  return { privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(), publicKey: `publickeyv1_${base58(raw)}` };
}
