import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { randomBytes } from "node:crypto";

/** Presigned PUT lifetime: 15 minutes (WIRE.md). */
export const putUrlTtlSeconds = 15 * 60;
/** Presigned GET lifetime: 1 hour (WIRE.md). */
export const getUrlTtlSeconds = 60 * 60;

/** Where and how to reach S3. */
export interface S3Config {
  /** What servers in the control plane use, e.g. http://127.0.0.1:9000. */
  endpoint: string;
  /** What a laptop or builder can reach; presigned URLs use it when set. */
  externalEndpoint?: string | undefined;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** A typed S3 client with an internal client for servers and an external one for presigning. */
export interface Storage {
  readonly bucket: string;
  readonly client: S3Client;
  /** Creates the bucket if it does not exist. Idempotent. */
  ensureBucket(): Promise<void>;
  presignPut(key: string, options?: { contentType?: string; expiresInSeconds?: number }): Promise<string>;
  presignGet(key: string, options?: { expiresInSeconds?: number }): Promise<string>;
  putObject(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  /** The object's bytes, or undefined when it does not exist. */
  getObject(key: string): Promise<Uint8Array | undefined>;
  /** Every object key under `prefix` (all pages of ListObjectsV2), e.g. to prove nothing was written. */
  listKeys(prefix?: string): Promise<string[]>;
  destroy(): void;
}

function makeClient(config: S3Config, endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    // Otherwise presigned PUTs carry a checksum of an empty body that real S3 rejects.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Builds a {@link Storage} from config. */
export function createStorage(config: S3Config): Storage {
  const client = makeClient(config, config.endpoint);
  const presigner = config.externalEndpoint ? makeClient(config, config.externalEndpoint) : client;
  const bucket = config.bucket;
  return {
    bucket,
    client,
    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch {
        try {
          await client.send(new CreateBucketCommand({ Bucket: bucket }));
        } catch (err) {
          const name = (err as { name?: string }).name;
          if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw err;
        }
      }
    },
    presignPut(key, options = {}) {
      const command = new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: options.contentType });
      return getSignedUrl(presigner, command, {
        expiresIn: options.expiresInSeconds ?? putUrlTtlSeconds,
        // The presigner drops Content-Type unless told to sign it; signed, the upload must send exactly it.
        ...(options.contentType ? { signableHeaders: new Set(["content-type"]) } : {}),
      });
    },
    presignGet(key, options = {}) {
      return getSignedUrl(presigner, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: options.expiresInSeconds ?? getUrlTtlSeconds,
      });
    },
    async putObject(key, body, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    },
    async getObject(key) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await res.Body!.transformToByteArray();
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === "NoSuchKey" || name === "NotFound") return undefined;
        throw err;
      }
    },
    async listKeys(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    destroy() {
      client.destroy();
      if (presigner !== client) presigner.destroy();
    },
  };
}

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/**
 * The key of a new build context upload: `<projectId>/build_<id>.tar.gz` (WIRE.md).
 */
export function buildContextKey(projectId: string, id = randomId()): string {
  if (!/^[A-Za-z0-9_-]+$/.test(projectId)) throw new Error(`projectId "${projectId}" is not a valid id`);
  return `${projectId}/build_${id}.tar.gz`;
}

function randomId(): string {
  return Array.from(randomBytes(22), (b) => base58[b % 58]).join("");
}

/** Redacts the signature of a presigned URL for logs. */
export function redactPresignedUrl(url: string): string {
  const u = new URL(url);
  for (const p of ["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token"]) if (u.searchParams.has(p)) u.searchParams.set(p, "REDACTED");
  return u.toString();
}
