import { createDb, ensureAgentCredential, migrateToLatest, seedLocal, type SeedResult } from "@ctrl/db";
import { ensureDatabase } from "@ctrl/db/testing";
import { createStorage } from "@ctrl/s3";
import { packSentinelArtifact } from "@ctrl/sentinel/pack";
import type { StepSpec } from "../runner.js";
import { localInstancePorts, localS3, type StackContext } from "./context.js";

/** The `migrate` step. */
export function migrateSpec(c: StackContext): StepSpec {
  const { databaseUrl } = c;
  return {
    kind: "task",
    name: "migrate",
    after: ["mysql"],
    run: async (_outputs, log) => {
      await ensureDatabase(databaseUrl);
      const db = createDb({ url: databaseUrl, connectionLimit: 2 });
      try {
        const applied = await migrateToLatest(db);
        log(applied.length ? `applied ${applied.join(", ")}` : "schema up to date");
      } finally {
        await db.destroy();
      }
    },
  };
}

/** The `seed` step. */
export function seedSpec(c: StackContext): StepSpec {
  const { databaseUrl } = c;
  return {
    kind: "task",
    name: "seed",
    after: ["migrate"],
    run: async (_outputs, log): Promise<SeedResult> => {
      const db = createDb({ url: databaseUrl, connectionLimit: 2 });
      try {
        const seed = await seedLocal(db);
        log(`${seed.created ? "created" : "found"} workspace ${seed.workspaceId}, project ${seed.projectId}; minted a new root key`);
        return seed;
      } finally {
        await db.destroy();
      }
    },
  };
}

/** The region-`local` agent's credential: KRANE_TOKEN from secrets.env, bound to 127.0.0.1 and the instance ports. Idempotent; a revoked one stays revoked (delete secrets.env for a new token). */
export function agentCredentialSpec(c: StackContext): StepSpec {
  const { databaseUrl, secrets } = c;
  return {
    kind: "task",
    name: "agent-credential",
    after: ["migrate"],
    run: async (_outputs, log) => {
      const db = createDb({ url: databaseUrl, connectionLimit: 2 });
      try {
        const credential = await ensureAgentCredential(db, {
          token: secrets.KRANE_TOKEN,
          name: "local stack krane",
          region: "local",
          advertiseHosts: ["127.0.0.1"],
          ports: localInstancePorts,
          now: Date.now(),
        });
        log(`agent credential ${credential.id} (region local, 127.0.0.1:${localInstancePorts.low}-${localInstancePorts.high})`);
      } finally {
        await db.destroy();
      }
    },
  };
}

/** apps/sentinel bundled into an artifact and uploaded; its reference is the worker's SENTINEL_IMAGE, so sentinels run through the agent like any workload (content-addressed: unchanged → same ref). */
export function sentinelArtifactSpec(c: StackContext): StepSpec {
  const { urls } = c;
  return {
    kind: "task",
    name: "sentinel-artifact",
    after: ["s3"],
    run: async (_outputs, log): Promise<string> => {
      const storage = createStorage({
        endpoint: urls.s3,
        region: localS3.region,
        bucket: localS3.bucket,
        accessKeyId: localS3.accessKeyId,
        secretAccessKey: localS3.secretAccessKey,
      });
      try {
        await storage.ensureBucket();
        const image = await packSentinelArtifact(storage);
        log(`sentinel image ${image}`);
        return image;
      } finally {
        storage.destroy();
      }
    },
  };
}
