import { describe, expect, it } from "vitest";
import { base58, newId } from "./ids.js";

const base58Alphabet = /^[1-9A-HJ-NP-Za-km-z]+$/;
const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));

/** A small seeded PRNG (mulberry32), standing in for `ctx.rand.random` under replay. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("base58 (bitcoin alphabet)", () => {
  // Vectors from bitcoin-core's base58_encode_decode.json: guarantees ids stay compatible with any base58 decoder.
  it.each([
    ["", ""],
    ["61", "2g"],
    ["626262", "a3gV"],
    ["636363", "aPEr"],
    ["00000000000000000000", "1111111111"],
    ["516b6fcd0f", "ABnLTmg"],
    ["572e4794", "3EFU7m"],
    ["ecac89cad93923c02321", "EJDM8drfXA6uyA"],
    ["10c8511e", "Rt5zm"],
    ["00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"],
    [
      "000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
      "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
    ],
  ])("encodes %s as %s", (input, expected) => {
    expect(base58(hex(input))).toBe(expected);
  });

  it("keeps one leading '1' per leading zero byte", () => {
    expect(base58(hex("0000ff"))).toBe("115Q");
  });
});

describe("newId", () => {
  it("is <prefix>_<base58> of 16 random bytes", () => {
    for (const prefix of ["ws", "proj", "env", "d", "build", "key"] as const) {
      const id = newId(prefix);
      const [p, body, ...rest] = id.split("_");
      expect(p).toBe(prefix);
      expect(rest).toEqual([]);
      expect(body).toMatch(base58Alphabet);
      // 16 bytes are at most 22 base58 digits; fewer only with leading zero bytes.
      expect(body!.length).toBeGreaterThanOrEqual(16);
      expect(body!.length).toBeLessThanOrEqual(22);
    }
  });

  it("does not repeat across many draws of the crypto RNG", () => {
    const ids = new Set(Array.from({ length: 5_000 }, () => newId("d")));
    expect(ids.size).toBe(5_000);
  });

  it("is deterministic with a seeded random (replay-safe in workflows)", () => {
    const a = seeded(42);
    const b = seeded(42);
    const first = [newId("d", a), newId("d", a), newId("d", a)];
    const second = [newId("d", b), newId("d", b), newId("d", b)];
    expect(first).toEqual(second);
    expect(new Set(first).size).toBe(3);
    expect(newId("d", seeded(43))).not.toBe(first[0]);
    for (const id of first) expect(id).toMatch(/^d_[1-9A-HJ-NP-Za-km-z]{16,22}$/);
  });

  it("maps a random() of exactly 0 to leading '1's, not an empty id", () => {
    expect(newId("ws", () => 0)).toBe(`ws_${"1".repeat(16)}`);
  });
});
