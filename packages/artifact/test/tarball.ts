/** Hand-made tar archives for tests: node-tar refuses to write most of the malicious shapes. */
import { gzipSync } from "node:zlib";

/** One raw tar entry. `type` is the typeflag character. */
export interface RawEntry {
  path: string;
  type?: "0" | "1" | "2" | "3" | "4" | "5" | "6";
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
  /** Claimed size in the header, when it should differ from the body (must not, for a valid archive). */
  size?: number;
}

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), "utf8");
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, "0") + "\0";
}

/** A ustar header block for `entry`. */
export function header(entry: RawEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  field(h, 0, 100, entry.path);
  field(h, 100, 8, octal(entry.mode ?? (entry.type === "5" ? 0o755 : 0o644), 8));
  field(h, 108, 8, octal(0, 8));
  field(h, 116, 8, octal(0, 8));
  field(h, 124, 12, octal(size, 12));
  field(h, 136, 12, octal(946684800, 12));
  field(h, 148, 8, "        ");
  field(h, 156, 1, entry.type ?? "0");
  field(h, 157, 100, entry.linkpath ?? "");
  field(h, 257, 6, "ustar\0");
  field(h, 263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** An uncompressed tar of `entries`, ended by two zero blocks. */
export function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    blocks.push(header(e, e.size ?? body.length));
    if (body.length) {
      blocks.push(body);
      const pad = (512 - (body.length % 512)) % 512;
      if (pad) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A `.tar.gz` of `entries`. */
export function tarGz(entries: RawEntry[]): Buffer {
  return gzipSync(rawTar(entries));
}
