import { Kysely, MysqlDialect } from "kysely";
import { createPool, type PoolOptions } from "mysql2";
import type { Database } from "./schema.js";

/** A kysely handle or a transaction: query functions take this first. */
export type Db = Kysely<Database>;

/** Options for {@link createDb}. */
export interface CreateDbOptions {
  /** `mysql://user:pass@host:port/database` */
  url: string;
  connectionLimit?: number;
}

/** Opens a mysql2 pool behind kysely. Bigints come back as numbers (all ours are below 2^53). */
export function createDb(options: CreateDbOptions): Db {
  const pool = createPool({
    uri: options.url,
    connectionLimit: options.connectionLimit ?? 20,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    timezone: "Z",
    charset: "utf8mb4",
  } satisfies PoolOptions);
  return new Kysely<Database>({ dialect: new MysqlDialect({ pool }) });
}

/** Splits a MySQL URL into the server URL and the database name. */
export function splitDatabaseUrl(url: string): { serverUrl: string; database: string } {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  parsed.pathname = "/";
  return { serverUrl: parsed.toString(), database };
}
