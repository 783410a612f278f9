/** Hand-made tar archives for tests: node-tar refuses to write the malicious shapes we need. */
import { gzipSync } from "node:zlib";

/** One raw ustar entry; `type` is the typeflag ("0" file, "2" symlink, "3" char device, "5" dir). */
export interface RawEntry {
  path: string;
  type?: "0" | "2" | "3" | "5";
  body?: string;
  linkpath?: string;
}

function put(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), "utf8");
}

const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, "0") + "\0";

/** A `.tar.gz` of `entries`. */
export function tarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? "");
    const h = Buffer.alloc(512);
    put(h, 0, 100, e.path);
    put(h, 100, 8, octal(e.type === "5" ? 0o755 : 0o644, 8));
    put(h, 108, 8, octal(0, 8));
    put(h, 116, 8, octal(0, 8));
    put(h, 124, 12, octal(body.length, 12));
    put(h, 136, 12, octal(946684800, 12));
    put(h, 148, 8, "        ");
    put(h, 156, 1, e.type ?? "0");
    put(h, 157, 100, e.linkpath ?? "");
    put(h, 257, 6, "ustar\0");
    put(h, 263, 2, "00");
    let sum = 0;
    for (const b of h) sum += b;
    put(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
    blocks.push(h);
    if (body.length) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
