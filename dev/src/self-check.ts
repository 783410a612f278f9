import { gzipSync } from "node:zlib";
import type { Storage } from "@ctrl/s3";

/** A file to put in a tarball. */
export interface TarEntry {
  name: string;
  content: string | Uint8Array;
  mode?: number;
}

/**
 * A gzip-compressed ustar archive of regular files (enough for a test build context; no links,
 * no directories, names up to 100 bytes).
 */
export function tarGz(entries: TarEntry[], mtimeSeconds = 0): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = typeof entry.content === "string" ? Buffer.from(entry.content, "utf8") : Buffer.from(entry.content);
    if (Buffer.byteLength(entry.name) > 100) throw new Error(`tar entry name too long: ${entry.name}`);
    const header = Buffer.alloc(512);
    header.write(entry.name, 0, 100, "utf8");
    header.write(octal(entry.mode ?? 0o644, 8), 100);
    header.write(octal(0, 8), 108); // uid
    header.write(octal(0, 8), 116); // gid
    header.write(octal(body.length, 12), 124);
    header.write(octal(mtimeSeconds, 12), 136);
    header.write("        ", 148); // checksum field counts as spaces while summing
    header.write("0", 156); // regular file
    header.write("ustar\u000000", 257, "binary");
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "binary");
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024)); // end-of-archive marker
  return gzipSync(Buffer.concat(blocks));
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\u0000`;
}

/** Inputs of {@link checkUploadFlow}. */
export interface UploadCheckInput {
  apiUrl: string;
  rootKey: string;
  projectId: string;
  /** Reads the object back to prove it landed in the bucket. */
  storage: Pick<Storage, "getObject">;
}

/** What the self-check found. */
export type UploadCheckResult = { ok: true; context: string; bytes: number } | { ok: false; step: string; error: string };

/**
 * Does what a user does with a fresh stack: `POST /v2/deploy.generateUploadUrl` with the root key,
 * `PUT` a small build context to the returned URL with plain HTTP, then reads the object back from S3
 * and compares the bytes.
 */
export async function checkUploadFlow(input: UploadCheckInput): Promise<UploadCheckResult> {
  let step = "generateUploadUrl";
  try {
    const res = await fetch(`${input.apiUrl}/v2/deploy.generateUploadUrl`, {
      method: "POST",
      headers: { authorization: `Bearer ${input.rootKey}`, "content-type": "application/json" },
      body: JSON.stringify({ projectId: input.projectId }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status !== 200) return { ok: false, step, error: `HTTP ${res.status}: ${text.slice(0, 500)}` };
    const body = JSON.parse(text) as { data?: { uploadUrl?: string; context?: string } };
    const uploadUrl = body.data?.uploadUrl;
    const context = body.data?.context;
    if (!uploadUrl || !context) return { ok: false, step, error: `no data.uploadUrl/data.context in ${text.slice(0, 500)}` };

    step = "PUT to the upload URL";
    const archive = tarGz([
      { name: "ctrl.json", content: JSON.stringify({ start: "node server.js", port: 8080, health: "/health" }) + "\n" },
      {
        name: "server.js",
        content:
          "require('node:http').createServer((_, r) => r.end('hello from the dev self-check\\n')).listen(process.env.PORT ?? 8080);\n",
      },
    ]);
    const put = await fetch(uploadUrl, {
      method: "PUT",
      headers: { "content-type": "application/gzip" },
      body: archive,
      signal: AbortSignal.timeout(10_000),
    });
    if (!put.ok) return { ok: false, step, error: `HTTP ${put.status}: ${(await put.text()).slice(0, 500)}` };
    await put.body?.cancel();

    step = "read the object back from S3";
    const stored = await input.storage.getObject(context);
    if (!stored) return { ok: false, step, error: `no object at ${context}` };
    if (!Buffer.from(stored).equals(archive))
      return {
        ok: false,
        step,
        error: `object at ${context} differs from what was uploaded (${stored.length} vs ${archive.length} bytes)`,
      };
    return { ok: true, context, bytes: archive.length };
  } catch (err) {
    return { ok: false, step, error: (err as Error).message };
  }
}
