import { randomBytes } from "node:crypto";

const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** Id prefixes (docs/architecture.md section 3). */
export type IdPrefix =
  | "ws"
  | "proj"
  | "env"
  | "d"
  | "se"
  | "ins"
  | "dom"
  | "cert"
  | "build"
  | "route"
  | "key"
  | "step"
  | "top"
  | "var"
  | "chal"
  | "acme"
  | "req"
  | "agc"
  | "ro"
  | "plan";

/** Encodes bytes as base58 (bitcoin alphabet). */
export function base58(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = "";
  while (n > 0n) {
    out = alphabet[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = "1" + out;
  }
  return out;
}

/**
 * A new id `<prefix>_<random base58>`. Pass `random` (e.g. `ctx.rand.random` in a workflow) to make
 * the id deterministic under replay; by default it uses the crypto RNG.
 */
export function newId(prefix: IdPrefix, random?: () => number): string {
  const bytes = new Uint8Array(16);
  if (random) for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  else bytes.set(randomBytes(16));
  return `${prefix}_${base58(bytes)}`;
}
