import { describe, expect, it } from "vitest";
import { s3ConfigFromEnv, s3ConfigSchema } from "./config.js";

// Guarantee: every service reads S3_* the same way (defaults for the local stack, credentials
// required with a message naming the variable) and hands createStorage the same config.
describe("s3ConfigSchema", () => {
  it("defaults everything but the credentials, which it names when missing", () => {
    const parsed = s3ConfigSchema.safeParse({});
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([
      "S3_ACCESS_KEY_ID: S3_ACCESS_KEY_ID is required: the S3 access key id",
      "S3_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY is required: the S3 secret key",
    ]);
    const empty = s3ConfigSchema.safeParse({ S3_ACCESS_KEY_ID: "", S3_SECRET_ACCESS_KEY: "s" });
    expect(empty.error!.issues.map((i) => i.message)).toEqual(["S3_ACCESS_KEY_ID is required: the S3 access key id"]);
  });

  it("maps the variables onto createStorage's config", () => {
    const env = s3ConfigSchema.parse({ S3_ACCESS_KEY_ID: "id", S3_SECRET_ACCESS_KEY: "secret", S3_EXTERNAL_ENDPOINT: "http://s3.example" });
    expect(s3ConfigFromEnv(env)).toEqual({
      endpoint: "http://127.0.0.1:9000",
      externalEndpoint: "http://s3.example",
      region: "us-east-1",
      bucket: "ctrl-builds",
      accessKeyId: "id",
      secretAccessKey: "secret",
    });
  });
});
