import { randomBytes } from "node:crypto";
import { createConnection } from "mysql2/promise";
import { migrateToLatest } from "./migrate.js";
import { createDb, splitDatabaseUrl, type Db } from "./pool.js";

/** A migrated, empty database that only this caller uses; `drop()` removes it. */
export interface TestDatabase {
  url: string;
  name: string;
  db: Db;
  drop(): Promise<void>;
}

/**
 * Creates a fresh database on the server at `TEST_DATABASE_URL` (default
 * `mysql://root@127.0.0.1:3306`), migrates it and returns a pool. Tests never share data.
 */
export async function createTestDatabase(
  serverUrl = process.env.TEST_DATABASE_URL ?? "mysql://root@127.0.0.1:3306",
): Promise<TestDatabase> {
  const name = `ctrl_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const { serverUrl: base } = splitDatabaseUrl(serverUrl);
  const admin = await createConnection({ uri: base });
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.end();
  }
  const url = new URL(name, base.endsWith("/") ? base : base + "/").toString();
  const db = createDb({ url });
  await migrateToLatest(db);
  return {
    url,
    name,
    db,
    async drop() {
      await db.destroy();
      const conn = await createConnection({ uri: base });
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await conn.end();
      }
    },
  };
}

/** Creates the database named in `url` if it does not exist (for the local stack). */
export async function ensureDatabase(url: string): Promise<void> {
  const { serverUrl, database } = splitDatabaseUrl(url);
  if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`DATABASE_URL: database name "${database}" must be [A-Za-z0-9_]+`);
  const conn = await createConnection({ uri: serverUrl });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await conn.end();
  }
}
