import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { Storage } from "@ctrl/s3";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ArtifactError } from "./errors.js";
import { sha256File } from "./pack.js";
import type { ArtifactRef } from "./ref.js";

/** Uploads an archive to `key` in the storage's bucket and returns its reference (with the file's digest). */
export async function uploadArtifact(storage: Storage, key: string, file: string): Promise<ArtifactRef> {
  const [sha256, info] = await Promise.all([sha256File(file), stat(file)]);
  await storage.client.send(
    new PutObjectCommand({
      Bucket: storage.bucket,
      Key: key,
      Body: createReadStream(file),
      ContentLength: info.size,
      ContentType: "application/gzip",
      // Lets a later reader see the digest without downloading (the agent still verifies the bytes).
      Metadata: { sha256 },
    }),
  );
  return { bucket: storage.bucket, key, sha256 };
}

/** Options for {@link downloadArtifact}. */
export interface DownloadOptions {
  /** Refuse (ArtifactError "too_large") an object larger than this. */
  maxBytes?: number;
}

/**
 * Downloads `ref` to `destFile`, hashing while streaming. The file appears (atomically, by rename)
 * only when its sha256 equals `ref.sha256`; otherwise ArtifactError "digest_mismatch". A missing
 * object is ArtifactError "not_found". The reference's bucket wins over the storage's default.
 */
export async function downloadArtifact(storage: Storage, ref: ArtifactRef, destFile: string, opts: DownloadOptions = {}): Promise<void> {
  let body: Readable;
  let length: number | undefined;
  try {
    const res = await storage.client.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    body = res.Body as Readable;
    length = res.ContentLength;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "NoSuchKey" || name === "NotFound" || name === "NoSuchBucket") {
      throw new ArtifactError("not_found", `artifact s3://${ref.bucket}/${ref.key} does not exist (${name})`);
    }
    throw err;
  }
  const max = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  if (length !== undefined && length > max) {
    body.destroy();
    throw new ArtifactError("too_large", `artifact s3://${ref.bucket}/${ref.key} is ${length} bytes, over the limit of ${max}`);
  }
  const hash = createHash("sha256");
  let seen = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) return cb(new ArtifactError("too_large", `artifact s3://${ref.bucket}/${ref.key} is over the limit of ${max} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const tmp = `${destFile}.part-${randomBytes(6).toString("hex")}`;
  try {
    await pipeline(body, meter, createWriteStream(tmp));
    const actual = hash.digest("hex");
    if (actual !== ref.sha256) {
      throw new ArtifactError("digest_mismatch", `artifact s3://${ref.bucket}/${ref.key} has sha256 ${actual}, expected ${ref.sha256}`);
    }
    await rename(tmp, destFile);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
