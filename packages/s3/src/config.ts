import { z } from "zod";
import type { S3Config } from "./index.js";

const required = (name: string, what: string) => z.string({ error: `${name} is required: ${what}` }).min(1, `${name} is required: ${what}`);

/** The S3 variables of every service that reaches the bucket (compose into an app's config schema). */
export const s3ConfigSchema = z.object({
  /** Internal S3 endpoint (what servers reach). */
  S3_ENDPOINT: z.string().url().default("http://127.0.0.1:9000"),
  /** External S3 endpoint (what a laptop or builder reaches); presigned URLs are signed for it when set. */
  S3_EXTERNAL_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().default("us-east-1"),
  /** The bucket of build contexts and artifacts (krane reads the bucket of each reference instead). */
  S3_BUCKET: z.string().min(3).default("ctrl-builds"),
  /** S3 credentials (no default: s3rver's are `S3RVER`/`S3RVER`, which `pnpm dev` passes). */
  S3_ACCESS_KEY_ID: required("S3_ACCESS_KEY_ID", "the S3 access key id"),
  S3_SECRET_ACCESS_KEY: required("S3_SECRET_ACCESS_KEY", "the S3 secret key"),
});

/** Parsed S3 variables (S3_EXTERNAL_ENDPOINT may be left out of an app's schema). */
export type S3Env = Omit<z.output<typeof s3ConfigSchema>, "S3_EXTERNAL_ENDPOINT"> & { S3_EXTERNAL_ENDPOINT?: string | undefined };

/** The {@link S3Config} of `createStorage` from an app's parsed config. */
export function s3ConfigFromEnv(env: S3Env): S3Config {
  return {
    endpoint: env.S3_ENDPOINT,
    externalEndpoint: env.S3_EXTERNAL_ENDPOINT,
    region: env.S3_REGION,
    bucket: env.S3_BUCKET,
    accessKeyId: env.S3_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY,
  };
}
