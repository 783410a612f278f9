/**
 * @ctrl/vault: envelope encryption for secrets at rest (ACME account keys, certificate private keys).
 *
 * Each secret is encrypted with its own random 256-bit data key (AES-256-GCM); the data key is
 * wrapped (AES-256-GCM) by a master key from config and stored next to the ciphertext, with the
 * master key's id. Rotation adds a new master key in front: new secrets use it, old ones still
 * decrypt, and {@link Vault.rewrap} moves an old secret to the new key without touching its
 * ciphertext. An optional `context` string (e.g. `certificate:example.com`) is bound as additional
 * authenticated data, so a blob copied to another row does not decrypt there.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** A master key: the id written into every blob it wraps, and 32 bytes of key material. */
export interface MasterKey {
  id: string;
  key: Buffer;
}

/** The blob format version; the first dot-separated field of every ciphertext. */
const FORMAT = "v1";
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Raised for anything that cannot be decrypted: tampering, wrong context, unknown key, bad format. */
export class VaultError extends Error {
  override name = "VaultError";
}

/**
 * Parses `VAULT_MASTER_KEYS`: `id:<base64 of 32 bytes>[,id:<base64>…]`. The first key encrypts; every
 * key decrypts. Errors name the entry but never echo key material.
 */
export function parseMasterKeys(spec: string): MasterKey[] {
  const entries = spec
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (entries.length === 0)
    throw new VaultError("no master keys: set VAULT_MASTER_KEYS to `k1:<base64 of 32 random bytes>` (e.g. `openssl rand -base64 32`)");
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const colon = entry.indexOf(":");
    const id = colon > 0 ? entry.slice(0, colon) : "";
    if (!KEY_ID.test(id))
      throw new VaultError(`master key #${index + 1}: expected '<id>:<base64>' with an id of 1-32 characters [A-Za-z0-9_-]`);
    if (seen.has(id)) throw new VaultError(`master key id '${id}' appears twice`);
    seen.add(id);
    const material = entry.slice(colon + 1);
    const key = Buffer.from(material, "base64");
    if (key.length !== 32 || key.toString("base64").replace(/=+$/, "") !== material.replace(/=+$/, "")) {
      throw new VaultError(`master key '${id}': expected base64 of exactly 32 bytes`);
    }
    return { id, key };
  });
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): { iv: Buffer; sealed: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, sealed: Buffer.concat([body, cipher.getAuthTag()]) };
}

function open(key: Buffer, iv: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (iv.length !== IV_BYTES || sealed.length < TAG_BYTES) throw new VaultError("malformed ciphertext");
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new VaultError("decryption failed: the ciphertext was modified, or the context or key does not match");
  }
}

const b64 = (b: Buffer) => b.toString("base64url");
const unb64 = (s: string) => Buffer.from(s, "base64url");

/** The parts of a blob: `v1.<keyId>.<wrapIv>.<wrappedDataKey>.<iv>.<ciphertext+tag>`. */
interface Blob {
  keyId: string;
  wrapIv: Buffer;
  wrappedKey: Buffer;
  iv: Buffer;
  sealed: Buffer;
}

function parseBlob(blob: string): Blob {
  const parts = blob.split(".");
  if (parts.length !== 6 || parts[0] !== FORMAT) throw new VaultError("not a vault ciphertext (expected v1.<keyId>.…)");
  const [, keyId, wrapIv, wrappedKey, iv, sealed] = parts as [string, string, string, string, string, string];
  return { keyId, wrapIv: unb64(wrapIv), wrappedKey: unb64(wrappedKey), iv: unb64(iv), sealed: unb64(sealed) };
}

function formatBlob(b: Blob): string {
  return [FORMAT, b.keyId, b64(b.wrapIv), b64(b.wrappedKey), b64(b.iv), b64(b.sealed)].join(".");
}

/** Envelope encryption under a ring of master keys (the first one encrypts). */
export class Vault {
  private readonly keys: Map<string, Buffer>;
  private readonly primary: MasterKey;

  constructor(masterKeys: MasterKey[]) {
    if (masterKeys.length === 0) throw new VaultError("a vault needs at least one master key");
    this.primary = masterKeys[0]!;
    this.keys = new Map(masterKeys.map((k) => [k.id, k.key]));
  }

  /** Builds a vault from the `VAULT_MASTER_KEYS` syntax. */
  static fromSpec(spec: string): Vault {
    return new Vault(parseMasterKeys(spec));
  }

  /** The id of the master key new secrets are wrapped with. */
  get primaryKeyId(): string {
    return this.primary.id;
  }

  /** Encrypts `plaintext` under a fresh data key, bound to `context`. */
  encrypt(plaintext: string | Buffer, context = ""): string {
    const dataKey = randomBytes(32);
    try {
      const data = seal(
        dataKey,
        typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext,
        Buffer.from(`data|${context}`),
      );
      const wrapped = seal(this.primary.key, dataKey, Buffer.from(`wrap|${this.primary.id}`));
      return formatBlob({ keyId: this.primary.id, wrapIv: wrapped.iv, wrappedKey: wrapped.sealed, iv: data.iv, sealed: data.sealed });
    } finally {
      dataKey.fill(0);
    }
  }

  /** Decrypts a blob from {@link encrypt}; throws {@link VaultError} on any mismatch. */
  decrypt(blob: string, context = ""): Buffer {
    const b = parseBlob(blob);
    const dataKey = this.unwrap(b);
    try {
      return open(dataKey, b.iv, b.sealed, Buffer.from(`data|${context}`));
    } finally {
      dataKey.fill(0);
    }
  }

  /** {@link decrypt} as UTF-8 text. */
  decryptString(blob: string, context = ""): string {
    return this.decrypt(blob, context).toString("utf8");
  }

  /** The master key id a blob is wrapped with. */
  keyIdOf(blob: string): string {
    return parseBlob(blob).keyId;
  }

  /** Whether the blob is wrapped by a key other than the primary (i.e. {@link rewrap} would change it). */
  needsRewrap(blob: string): boolean {
    return this.keyIdOf(blob) !== this.primary.id;
  }

  /**
   * Re-wraps the blob's data key under the primary master key (key rotation). The ciphertext and
   * the context binding are unchanged; the old master key can be retired once every blob is rewrapped.
   */
  rewrap(blob: string): string {
    const b = parseBlob(blob);
    if (b.keyId === this.primary.id) return blob;
    const dataKey = this.unwrap(b);
    try {
      const wrapped = seal(this.primary.key, dataKey, Buffer.from(`wrap|${this.primary.id}`));
      return formatBlob({ ...b, keyId: this.primary.id, wrapIv: wrapped.iv, wrappedKey: wrapped.sealed });
    } finally {
      dataKey.fill(0);
    }
  }

  private unwrap(b: Blob): Buffer {
    const master = this.keys.get(b.keyId);
    if (!master) throw new VaultError(`unknown master key '${b.keyId}': add it to VAULT_MASTER_KEYS to decrypt this secret`);
    const dataKey = open(master, b.wrapIv, b.wrappedKey, Buffer.from(`wrap|${b.keyId}`));
    if (dataKey.length !== 32) throw new VaultError("malformed wrapped data key");
    return dataKey;
  }

  /** Never print key material: a vault logs as its key ids only. */
  toJSON(): { keyIds: string[] } {
    return { keyIds: [...this.keys.keys()] };
  }
}

/**
 * Parses `VAULT_REGION_KEYS`: `<region>=<master keys>[;<region>=<master keys>…]`, each value in the
 * {@link parseMasterKeys} syntax (e.g. `local=k1:<base64>;eu-1=k2:<base64>,k1:<base64>`). ctrl-api
 * encrypts a region's deployment environments with that region's vault; the region's agents hold
 * only that key (KRANE_VAULT_MASTER_KEYS), so an agent of one region cannot decrypt another's.
 * Errors name the region, never key material.
 */
export function parseRegionKeys(spec: string): Map<string, Vault> {
  const vaults = new Map<string, Vault>();
  for (const entry of spec
    .split(";")
    .map((e) => e.trim())
    .filter((e) => e !== "")) {
    const eq = entry.indexOf("=");
    const region = eq > 0 ? entry.slice(0, eq).trim() : "";
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(region))
      throw new VaultError(
        "VAULT_REGION_KEYS: expected '<region>=<id>:<base64>[,…]' entries separated by ';', with a region of 1-64 characters [A-Za-z0-9._-]",
      );
    if (vaults.has(region)) throw new VaultError(`VAULT_REGION_KEYS: region '${region}' appears twice`);
    try {
      vaults.set(region, Vault.fromSpec(entry.slice(eq + 1)));
    } catch (err) {
      throw new VaultError(`VAULT_REGION_KEYS, region '${region}': ${(err as Error).message}`);
    }
  }
  if (vaults.size === 0) throw new VaultError("VAULT_REGION_KEYS: no region keys (expected '<region>=k1:<base64 of 32 bytes>')");
  return vaults;
}

/** Context strings used across services, so the writer and every reader agree. */
export const vaultContext = {
  certificateKey: (hostname: string) => `certificate:${hostname}`,
  acmeAccountKey: (acmeUserId: string) => `acme-account:${acmeUserId}`,
  /** One stored environment variable value (`environment_variables.encrypted_value`). */
  environmentVariable: (environmentId: string, key: string) => `env-var:${environmentId}:${key}`,
  /** The JSON map of a deployment's variables as sent to agents (`ApplyDeployment.encrypted_environment_variables`). */
  deploymentEnv: (deploymentId: string) => `env:${deploymentId}`,
};
