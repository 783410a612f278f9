import { z } from "zod";

/** The local stack's database: what every service and `ctrl-db` use when DATABASE_URL is unset. */
export const defaultDatabaseUrl = "mysql://root@127.0.0.1:3306/ctrl";

/** The database variables of every service that opens a pool (compose into an app's config schema). */
export const databaseConfigSchema = z.object({
  /** MySQL/MariaDB URL of the control plane's database. */
  DATABASE_URL: z.string().url().default(defaultDatabaseUrl),
});
