#!/usr/bin/env tsx
/** `ctrl-db migrate | seed`: applies migrations or seeds the local workspace. Reads DATABASE_URL. */
import { migrateToLatest } from "./migrate.js";
import { createDb } from "./pool.js";
import { seedLocal } from "./seed.js";
import { ensureDatabase } from "./testing.js";

const command = process.argv[2];
const url = process.env.DATABASE_URL ?? "mysql://root@127.0.0.1:3306/ctrl";
if (command !== "migrate" && command !== "seed") {
  console.error("usage: ctrl-db migrate|seed   (DATABASE_URL, default mysql://root@127.0.0.1:3306/ctrl)");
  process.exit(2);
}
await ensureDatabase(url);
const db = createDb({ url, connectionLimit: 2 });
try {
  const applied = await migrateToLatest(db);
  console.log(applied.length ? `applied migrations: ${applied.join(", ")}` : "migrations: up to date");
  if (command === "seed") {
    const seed = await seedLocal(db);
    console.log(JSON.stringify(seed, null, 2));
  }
} finally {
  await db.destroy();
}
