import { GetObjectCommand } from "@aws-sdk/client-s3";
import type { Storage } from "@ctrl/s3";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BuildError } from "./errors.js";
import { buildSteps } from "./steps.js";

/** A downloaded build context. */
export interface FetchedContext {
  file: string;
  bytes: number;
  /** Hex sha256 of the archive bytes: with the project, the build cache key. */
  sha256: string;
}

/**
 * Streams the context at `key` to `destFile`, refusing more than `maxBytes` (BuildError naming the
 * limit) and anything that is not gzip (checked on the first bytes). A missing object is
 * `build_context_missing`; other S3 errors are transient and thrown as they are.
 */
export async function fetchContext(storage: Storage, key: string, destFile: string, maxBytes: number): Promise<FetchedContext> {
  let body: Readable;
  let length: number | undefined;
  try {
    const res = await storage.client.send(new GetObjectCommand({ Bucket: storage.bucket, Key: key }));
    body = res.Body as Readable;
    length = res.ContentLength;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "NoSuchKey" || name === "NotFound") {
      throw new BuildError(
        buildSteps.fetch,
        "build_context_missing",
        `build context ${key} does not exist in bucket ${storage.bucket}: upload it to the URL from generateUploadUrl before creating the deployment`,
      );
    }
    throw err;
  }
  const overLimit = (size: string) =>
    new BuildError(
      buildSteps.fetch,
      "build_context_invalid",
      `build context ${key} is ${size}, over the compressed size limit of ${maxBytes} bytes (BUILD_MAX_CONTEXT_BYTES)`,
    );
  if (length !== undefined && length > maxBytes) {
    body.destroy();
    throw overLimit(`${length} bytes`);
  }
  const hash = createHash("sha256");
  let seen = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > maxBytes) return cb(overLimit(`more than ${maxBytes} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(body, meter, createWriteStream(destFile));
  await assertGzip(destFile, key);
  return { file: destFile, bytes: seen, sha256: hash.digest("hex") };
}

/** Throws `build_context_invalid` unless `file` starts with the gzip magic bytes. */
export async function assertGzip(file: string, label: string): Promise<void> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    if (bytesRead < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
      const seen = bytesRead === 0 ? "it is empty" : `it starts with 0x${head.subarray(0, bytesRead).toString("hex")}`;
      throw new BuildError(
        buildSteps.fetch,
        "build_context_invalid",
        `build context ${label} is not a gzip-compressed tarball (${seen}): upload a .tar.gz, e.g. made by \`ctrl deploy\``,
      );
    }
  } finally {
    await handle.close();
  }
}
