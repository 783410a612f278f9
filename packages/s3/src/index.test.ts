import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { describe, expect, it } from "vitest";
import { buildContextKey, createStorage, getUrlTtlSeconds, putUrlTtlSeconds, redactPresignedUrl } from "./index.js";

const config = {
  endpoint: "http://s3.internal:9000",
  region: "us-east-1",
  bucket: "ctrl-builds",
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

describe("buildContextKey", () => {
  it("lays keys out as <projectId>/build_<base58>.tar.gz", () => {
    const key = buildContextKey("proj_9xYz");
    expect(key).toMatch(/^proj_9xYz\/build_[1-9A-HJ-NP-Za-km-z]{22}\.tar\.gz$/);
  });

  it("uses the given id and draws a new one otherwise", () => {
    expect(buildContextKey("proj_a", "abc")).toBe("proj_a/build_abc.tar.gz");
    expect(buildContextKey("proj_a")).not.toBe(buildContextKey("proj_a"));
  });

  // A project id is a path segment of the key: anything that could escape the project's prefix is refused.
  it.each(["", "../proj_a", "proj_a/..", "a/b", "proj a", "proj.a", "proj_a\n", "%2e%2e", "proj_ä"])(
    "rejects project id %j",
    (projectId) => {
      expect(() => buildContextKey(projectId)).toThrow(/not a valid id/);
    },
  );
});

describe("redactPresignedUrl", () => {
  it("replaces signature and credential and keeps everything else", () => {
    const url =
      "http://s3.example:9000/ctrl-builds/proj_a/build_x.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-Signature=deadbeef&X-Amz-SignedHeaders=host";
    const redacted = new URL(redactPresignedUrl(url));
    expect(redacted.pathname).toBe("/ctrl-builds/proj_a/build_x.tar.gz");
    expect(redacted.searchParams.get("X-Amz-Signature")).toBe("REDACTED");
    expect(redacted.searchParams.get("X-Amz-Credential")).toBe("REDACTED");
    expect(redacted.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(redactPresignedUrl(url)).not.toContain("deadbeef");
    expect(redactPresignedUrl(url)).not.toContain("AKID");
  });

  it("redacts a session token too and leaves an unsigned URL alone", () => {
    expect(redactPresignedUrl("http://h/b/k?X-Amz-Security-Token=secret")).not.toContain("secret");
    expect(redactPresignedUrl("http://h/b/k")).toBe("http://h/b/k");
  });
});

describe("presigning (offline: SigV4 presigning needs no server)", () => {
  it("signs for the internal endpoint when no external one is set; PUT lives 15 min, GET 1 h", async () => {
    const storage = createStorage(config);
    try {
      const put = new URL(await storage.presignPut("proj_a/build_x.tar.gz"));
      expect(put.origin).toBe("http://s3.internal:9000");
      expect(put.pathname).toBe("/ctrl-builds/proj_a/build_x.tar.gz");
      expect(put.searchParams.get("X-Amz-Expires")).toBe(String(putUrlTtlSeconds));
      expect(putUrlTtlSeconds).toBe(900);
      expect(put.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
      // No checksum of an empty body (which real S3 would check against the upload).
      expect([...put.searchParams.keys()].some((k) => k.toLowerCase().includes("checksum"))).toBe(false);

      const get = new URL(await storage.presignGet("proj_a/build_x.tar.gz"));
      expect(get.searchParams.get("X-Amz-Expires")).toBe(String(getUrlTtlSeconds));
      expect(getUrlTtlSeconds).toBe(3600);
    } finally {
      storage.destroy();
    }
  });

  it("signs for the external endpoint when set (what a laptop or builder reaches)", async () => {
    const storage = createStorage({ ...config, externalEndpoint: "https://uploads.example.com" });
    try {
      const put = new URL(await storage.presignPut("proj_a/build_x.tar.gz"));
      expect(put.origin).toBe("https://uploads.example.com");
      expect(put.pathname).toBe("/ctrl-builds/proj_a/build_x.tar.gz");
      expect(put.searchParams.get("X-Amz-Expires")).toBe("900");
      const get = new URL(await storage.presignGet("proj_a/build_x.tar.gz"));
      expect(get.origin).toBe("https://uploads.example.com");
      expect(get.searchParams.get("X-Amz-Expires")).toBe("3600");
      // The server-side client still talks to the internal endpoint.
      const endpoint = await storage.client.config.endpoint?.();
      expect(endpoint?.hostname).toBe("s3.internal");
    } finally {
      storage.destroy();
    }
  });

  it("honours an explicit expiry and signs the content type when given", async () => {
    const storage = createStorage(config);
    try {
      const put = new URL(await storage.presignPut("proj_a/k", { expiresInSeconds: 60, contentType: "application/gzip" }));
      expect(put.searchParams.get("X-Amz-Expires")).toBe("60");
      expect(put.searchParams.get("X-Amz-SignedHeaders")?.split(";")).toContain("content-type");
    } finally {
      storage.destroy();
    }
  });
});

describe("presigned URLs are byte-identical to the SDK's getSignedUrl", () => {
  // Our presigner skips getSignedUrl's per-call machinery; s3rver does not verify signatures, so the
  // only proof that real S3 accepts our URLs is that they equal the SDK's for the same inputs.
  const signingDate = new Date("2026-03-04T05:06:07Z");
  const endpoints = [
    "http://127.0.0.1:9000",
    "https://uploads.example.com",
    "http://localhost:4566/prefix",
    "https://r2.example.com:8443/",
  ];
  const keys = ["proj_a/build_x.tar.gz", "a b/c+d=e&f?.tgz", "ünï/cödé.tgz", "x/(y)!*'~.z", "trailing/", "a//b", "%41/%2F"];

  it.each(endpoints)("for %s", async (endpoint) => {
    const storage = createStorage({ ...config, endpoint: "http://unused.internal:1", externalEndpoint: endpoint });
    const sdk = new S3Client({
      endpoint,
      region: config.region,
      forcePathStyle: true,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    try {
      for (const key of keys) {
        const put = await getSignedUrl(sdk, new PutObjectCommand({ Bucket: config.bucket, Key: key }), { expiresIn: 900, signingDate });
        expect(await storage.presignPut(key, { signingDate }), `PUT ${key}`).toBe(put);
        const typed = await getSignedUrl(sdk, new PutObjectCommand({ Bucket: config.bucket, Key: key, ContentType: "application/gzip" }), {
          expiresIn: 60,
          signingDate,
          signableHeaders: new Set(["content-type"]),
        });
        expect(
          await storage.presignPut(key, { signingDate, expiresInSeconds: 60, contentType: "application/gzip" }),
          `typed PUT ${key}`,
        ).toBe(typed);
        const get = await getSignedUrl(sdk, new GetObjectCommand({ Bucket: config.bucket, Key: key }), { expiresIn: 3600, signingDate });
        expect(await storage.presignGet(key, { signingDate }), `GET ${key}`).toBe(get);
      }
    } finally {
      storage.destroy();
      sdk.destroy();
    }
  });
});
