import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { S3RequestPresigner } from "@aws-sdk/s3-request-presigner";
import { randomBytes } from "node:crypto";

export * from "./config.js";

/** Presigned PUT lifetime: 15 minutes (docs/wire.md). */
export const putUrlTtlSeconds = 15 * 60;
/** Presigned GET lifetime: 1 hour (docs/wire.md). */
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

/** Options of a presigned URL. */
export interface PresignOptions {
  expiresInSeconds?: number;
  /** The signature's timestamp (default now); tests pin it to compare URLs. */
  signingDate?: Date;
}

/** A typed S3 client with an internal client for servers and an external one for presigning. */
export interface Storage {
  readonly bucket: string;
  readonly client: S3Client;
  /** Creates the bucket if it does not exist. Idempotent. */
  ensureBucket(): Promise<void>;
  /** A presigned PUT (15 min by default); with `contentType` the upload must send exactly that type. */
  presignPut(key: string, options?: PresignOptions & { contentType?: string }): Promise<string>;
  /** A presigned GET (1 h by default). */
  presignGet(key: string, options?: PresignOptions): Promise<string>;
  putObject(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  /** The object's bytes, or undefined when it does not exist. */
  getObject(key: string): Promise<Uint8Array | undefined>;
  /** Every object key under `prefix` (all pages of ListObjectsV2), e.g. to prove nothing was written. */
  listKeys(prefix?: string): Promise<string[]>;
  /** Whether the object exists (a HEAD; `bucket` defaults to this storage's bucket). */
  objectExists(key: string, bucket?: string): Promise<boolean>;
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

  const presignObjectUrl = objectUrlPresigner(config, presigner);

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
      return presignObjectUrl("PUT", key, options.expiresInSeconds ?? putUrlTtlSeconds, options.signingDate, options.contentType);
    },
    presignGet(key, options = {}) {
      return presignObjectUrl("GET", key, options.expiresInSeconds ?? getUrlTtlSeconds, options.signingDate);
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
    async objectExists(key, otherBucket) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: otherBucket ?? bucket, Key: key }));
        return true;
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404) return false;
        throw err;
      }
    },
    destroy() {
      client.destroy();
      if (presigner !== client) presigner.destroy();
    },
  };
}

/**
 * A presigner of object URLs in this storage's bucket: what `getSignedUrl` would produce, for a
 * path-style custom endpoint (the external one when set).
 *
 * Presigning without the SDK's per-call machinery: `getSignedUrl` clones the middleware stack,
 * evaluates the endpoint rule set and builds a new signer on every call (~2 ms of CPU, most of an
 * upload-URL request). The request it would sign for a path-style custom endpoint is built here
 * instead and signed by one long-lived S3RequestPresigner; index.test.ts proves the URLs are
 * byte-identical to getSignedUrl's.
 */
function objectUrlPresigner(
  config: S3Config,
  presigner: S3Client,
): (method: "PUT" | "GET", key: string, expiresIn: number, signingDate?: Date, contentType?: string) => Promise<string> {
  const bucket = config.bucket;
  const signer = new S3RequestPresigner({ ...presigner.config, signingName: "s3" });
  const signingEndpoint = new URL(config.externalEndpoint ?? config.endpoint);
  const basePath = signingEndpoint.pathname.replace(/\/+$/, "");
  return async (method: "PUT" | "GET", key: string, expiresIn: number, signingDate?: Date, contentType?: string) => {
    const signed = await signer.presign(
      {
        method,
        protocol: signingEndpoint.protocol,
        hostname: signingEndpoint.hostname,
        port: signingEndpoint.port ? Number(signingEndpoint.port) : undefined,
        path: `${basePath}/${uriEscape(bucket)}/${key.split("/").map(uriEscape).join("/")}`,
        query: { "x-id": method === "PUT" ? "PutObject" : "GetObject" },
        headers: contentType ? { "content-type": contentType } : {},
      },
      {
        expiresIn,
        signingDate,
        signingRegion: config.region,
        signingService: "s3",
        // The presigner drops Content-Type unless told to sign it; signed, the upload must send exactly it.
        ...(contentType ? { signableHeaders: new Set(["content-type"]) } : {}),
      },
    );
    const params = signed.query ?? {};
    const query = Object.keys(params)
      .sort()
      .map((k) => `${uriEscape(k)}=${uriEscape(String(params[k]))}`)
      .join("&");
    return `${signed.protocol}//${signed.hostname}${signed.port ? `:${signed.port}` : ""}${signed.path}?${query}`;
  };
}

/** RFC 3986 escaping as the SDK does it for paths and query strings (encodeURIComponent plus !'()*). */
function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/**
 * The key of a new build context upload: `<projectId>/build_<id>.tar.gz` (docs/wire.md).
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
  for (const p of ["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token"])
    if (u.searchParams.has(p)) u.searchParams.set(p, "REDACTED");
  return u.toString();
}
