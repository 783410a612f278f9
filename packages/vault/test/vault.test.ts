import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Vault, VaultError, parseMasterKeys, parseRegionKeys, vaultContext } from "../src/index.js";

const k = () => randomBytes(32).toString("base64");
const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";

/** Flips one character of the `index`-th dot-separated field of a blob. */
function tamper(blob: string, index: number): string {
  const parts = blob.split(".");
  const field = Buffer.from(parts[index]!, "base64url");
  field[0] = field[0]! ^ 0x01;
  parts[index] = field.toString("base64url");
  return parts.join(".");
}

describe("parseMasterKeys", () => {
  it("parses several keys in order (the first encrypts)", () => {
    const keys = parseMasterKeys(`k2:${k()}, k1:${k()}`);
    expect(keys.map((x) => x.id)).toEqual(["k2", "k1"]);
    expect(keys[0]!.key.length).toBe(32);
  });
  it.each([
    ["empty", ""],
    ["no id", `:${k()}`],
    ["no colon", k()],
    ["short key", `k1:${randomBytes(16).toString("base64")}`],
    ["long key", `k1:${randomBytes(33).toString("base64")}`],
    ["not base64", "k1:!!!!"],
    ["bad id", `k 1:${k()}`],
    ["duplicate id", `k1:${k()},k1:${k()}`],
  ])("rejects %s", (_name, spec) => {
    expect(() => parseMasterKeys(spec)).toThrow(VaultError);
  });
  it("never echoes key material in its errors", () => {
    const material = randomBytes(31).toString("base64");
    // The throw is asserted outside any try/catch so that "no error" fails the test.
    let thrown: unknown;
    try {
      parseMasterKeys(`k1:${material}`);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(VaultError);
    expect((thrown as Error).message).not.toContain(material);
  });
});

describe("Vault", () => {
  const vault = Vault.fromSpec(`k1:${k()}`);

  it("round-trips and never contains the plaintext", () => {
    const blob = vault.encrypt(pem, vaultContext.certificateKey("a.example.com"));
    expect(blob.startsWith("v1.k1.")).toBe(true);
    expect(blob).not.toContain("PRIVATE KEY");
    expect(blob).not.toContain(Buffer.from(pem).toString("base64").slice(0, 20));
    expect(vault.decryptString(blob, vaultContext.certificateKey("a.example.com"))).toBe(pem);
  });

  it("uses a fresh data key and IV per secret", () => {
    expect(vault.encrypt(pem)).not.toBe(vault.encrypt(pem));
  });

  it("round-trips empty and binary plaintexts", () => {
    expect(vault.decrypt(vault.encrypt("")).length).toBe(0);
    const bin = randomBytes(1000);
    expect(vault.decrypt(vault.encrypt(bin)).equals(bin)).toBe(true);
  });

  it.each([2, 3, 4, 5])("detects tampering with field %i", (index) => {
    const blob = vault.encrypt(pem, "ctx");
    expect(() => vault.decrypt(tamper(blob, index), "ctx")).toThrow(VaultError);
  });

  it("detects truncation and garbage", () => {
    const blob = vault.encrypt(pem);
    expect(() => vault.decrypt(blob.slice(0, -4))).toThrow(VaultError);
    expect(() => vault.decrypt("v1.k1.a.b.c.d")).toThrow(VaultError);
    expect(() => vault.decrypt("not a blob")).toThrow(VaultError);
    expect(() => vault.decrypt("")).toThrow(VaultError);
  });

  it("binds the context: a blob moved to another row does not decrypt", () => {
    const blob = vault.encrypt(pem, vaultContext.certificateKey("a.example.com"));
    expect(() => vault.decrypt(blob, vaultContext.certificateKey("b.example.com"))).toThrow(VaultError);
    expect(() => vault.decrypt(blob)).toThrow(VaultError);
  });

  it("refuses a blob whose key id was swapped", () => {
    const other = `k9:${k()}`;
    const two = Vault.fromSpec(`k1:${k()},${other}`);
    const blob = two.encrypt(pem);
    expect(() => two.decrypt(blob.replace("v1.k1.", "v1.k9."))).toThrow(VaultError);
  });

  it("does not decrypt with a different master key of the same id", () => {
    const blob = vault.encrypt(pem);
    expect(() => Vault.fromSpec(`k1:${k()}`).decrypt(blob)).toThrow(VaultError);
  });

  it("rotates: a new primary key encrypts, old blobs decrypt and rewrap to the new key", () => {
    const k1 = `k1:${k()}`;
    const k2 = `k2:${k()}`;
    const before = Vault.fromSpec(k1);
    const old = before.encrypt(pem, "ctx");

    const after = Vault.fromSpec(`${k2},${k1}`);
    expect(after.primaryKeyId).toBe("k2");
    expect(after.encrypt(pem).startsWith("v1.k2.")).toBe(true);
    expect(after.decryptString(old, "ctx")).toBe(pem);
    expect(after.needsRewrap(old)).toBe(true);

    const rewrapped = after.rewrap(old);
    expect(after.keyIdOf(rewrapped)).toBe("k2");
    expect(after.needsRewrap(rewrapped)).toBe(false);
    expect(after.rewrap(rewrapped)).toBe(rewrapped);
    // The data ciphertext is unchanged; only the wrapped data key moved.
    expect(rewrapped.split(".").slice(4)).toEqual(old.split(".").slice(4));

    // Once everything is rewrapped, k1 can be retired.
    const retired = Vault.fromSpec(k2);
    expect(retired.decryptString(rewrapped, "ctx")).toBe(pem);
    expect(() => retired.decrypt(old, "ctx")).toThrow(/unknown master key 'k1'/);
  });

  it("serialises without key material", () => {
    const material = k();
    const v = Vault.fromSpec(`k1:${material}`);
    expect(JSON.stringify({ v })).not.toContain(material.slice(0, 10));
    expect(JSON.stringify({ v })).toContain("k1");
  });
});

describe("parseRegionKeys (VAULT_REGION_KEYS)", () => {
  const key = () => randomBytes(32).toString("base64");

  it("gives each region its own vault: a blob for one region does not decrypt with another's, even under the same key id", () => {
    const vaults = parseRegionKeys(`local=k1:${key()}; eu-1 = k2:${key()},k1:${key()}`);
    expect([...vaults.keys()]).toEqual(["local", "eu-1"]);
    const blob = vaults.get("local")!.encrypt("secret", "env:d_1");
    expect(vaults.get("local")!.decryptString(blob, "env:d_1")).toBe("secret");
    expect(() => vaults.get("eu-1")!.decrypt(blob, "env:d_1")).toThrow(VaultError);
    expect(vaults.get("eu-1")!.primaryKeyId).toBe("k2");
  });

  it.each([
    ["", /no region keys/],
    [`k1:${"A".repeat(44)}`, /expected '<region>=<id>:<base64>/],
    [`bad region=k1:${"A".repeat(44)}`, /expected '<region>=/],
    [`eu=k1:short`, /region 'eu': master key 'k1': expected base64 of exactly 32 bytes/],
    [`eu=k1:${"A".repeat(43)}=;eu=k1:${"A".repeat(43)}=`, /region 'eu' appears twice/],
  ])("refuses %j, naming the region but never the key", (spec, message) => {
    expect(() => parseRegionKeys(spec)).toThrow(message);
  });
});
