import { base58 } from "@ctrl/db";
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";

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
  return { privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(), publicKey: publicKeyV1(publicKey) };
}

/** The identity of an existing ed25519 private key PEM (e.g. one `openssl genpkey -algorithm ed25519` wrote). */
export function restateIdentityFromPem(privateKeyPem: string): RestateIdentity {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new Error(`a Restate request identity is an ed25519 key, not ${privateKey.asymmetricKeyType}`);
  return { privateKeyPem, publicKey: publicKeyV1(createPublicKey(privateKey)) };
}

/** `publickeyv1_` + base58 of the raw key. The JWK `x` member is the raw public key (RFC 8037). */
function publicKeyV1(publicKey: KeyObject): string {
  return `publickeyv1_${base58(Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url"))}`;
}
