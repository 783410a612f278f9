import type { Transaction } from "kysely";
import { newId } from "../ids.js";
import type { Db } from "../pool.js";
import type { Database } from "../schema.js";
import type { EnvironmentVariable } from "../tables/environment-variables.js";

type DbOrTrx = Db | Transaction<Database>;

/** The names of an environment's variables, ordered (values are not read). */
export async function listEnvironmentVariableKeys(db: DbOrTrx, environmentId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("environment_variables")
    .select("key")
    .where("environment_id", "=", environmentId)
    .orderBy("key")
    .execute();
  return rows.map((r) => r.key);
}

/** An environment's variables (values still encrypted), ordered by key. */
export async function listEnvironmentVariables(db: DbOrTrx, environmentId: string): Promise<EnvironmentVariable[]> {
  return db.selectFrom("environment_variables").selectAll().where("environment_id", "=", environmentId).orderBy("key").execute();
}

/** A variable to store: `encryptedValue` is a vault ciphertext bound to `vaultContext.environmentVariable(environmentId, key)`. */
export interface EnvironmentVariableInput {
  workspaceId: string;
  environmentId: string;
  key: string;
  encryptedValue: string;
  now: number;
}

/**
 * Inserts the variable or replaces the value of the existing one with the same (environment, key);
 * the unique constraint makes concurrent upserts of one key settle on the last write.
 */
export async function upsertEnvironmentVariable(db: DbOrTrx, v: EnvironmentVariableInput): Promise<void> {
  await db
    .insertInto("environment_variables")
    .values({
      id: newId("var"),
      workspace_id: v.workspaceId,
      environment_id: v.environmentId,
      key: v.key,
      encrypted_value: v.encryptedValue,
      created_at: v.now,
      updated_at: v.now,
    })
    .onDuplicateKeyUpdate({ encrypted_value: v.encryptedValue, updated_at: v.now })
    .execute();
}

/** Deletes the environment's variables named in `keys`, in one transaction; returns the keys that existed (ordered). */
export async function deleteEnvironmentVariables(db: Db, environmentId: string, keys: string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom("environment_variables")
      .select("key")
      .where("environment_id", "=", environmentId)
      .where("key", "in", keys)
      .orderBy("key")
      .forUpdate()
      .execute();
    if (existing.length === 0) return [];
    const found = existing.map((r) => r.key);
    await trx.deleteFrom("environment_variables").where("environment_id", "=", environmentId).where("key", "in", found).execute();
    return found;
  });
}
