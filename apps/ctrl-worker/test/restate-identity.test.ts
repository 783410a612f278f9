import { generateRestateIdentity, restateIdentityFromPem } from "@ctrl/testing";
import { describe, expect, it } from "vitest";
import { loadWorkerConfig } from "../src/config.js";

/** The other required variables, so each case is about the one it names. */
const s3Keys = { S3_ACCESS_KEY_ID: "test-key-id", S3_SECRET_ACCESS_KEY: "test-secret" };

/** RFC 8032 §7.1 test 1 as a PKCS#8 PEM (fixed prefix + the 32-byte seed). */
const rfc8032Seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const rfc8032Pem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(`302e020100300506032b657004220420${rfc8032Seed}`, "hex").toString("base64")}\n-----END PRIVATE KEY-----\n`;

// Guarantee: the public key we hand the worker is the one restate-server signs with, in the SDK's form.
describe("Restate request identity keys", () => {
  it("encodes the raw ed25519 public key as publickeyv1_<base58>", () => {
    // Public key of the RFC vector: d75a9801…f707511a; base58 (bitcoin alphabet) computed independently.
    expect(restateIdentityFromPem(rfc8032Pem).publicKey).toBe("publickeyv1_FVen3X669xLzsi6N2V91DoiyzHzg1uAgqiT8jZ9nS96Z");
  });

  it("derives the same public key from a generated PEM, in a form the worker config accepts", () => {
    const identity = generateRestateIdentity();
    expect(restateIdentityFromPem(identity.privateKeyPem).publicKey).toBe(identity.publicKey);
    expect(loadWorkerConfig({ ...s3Keys, RESTATE_IDENTITY_KEYS: identity.publicKey }).RESTATE_IDENTITY_KEYS).toEqual([identity.publicKey]);
  });

  it("refuses a key that is not ed25519", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    expect(() => restateIdentityFromPem(ec)).toThrow(/ed25519 key, not ec/);
  });
});
