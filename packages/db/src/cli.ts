#!/usr/bin/env tsx
/**
 * `ctrl-db migrate | seed | agent-credential create|list|revoke`: applies migrations, seeds the local
 * workspace, or manages krane agents' credentials. Reads DATABASE_URL.
 */
import { parseArgs } from "node:util";
import { defaultDatabaseUrl } from "./config.js";
import { createAgentCredential, listAgentCredentials, revokeAgentCredential } from "./agent-credentials.js";
import { migrateToLatest } from "./migrate.js";
import { createDb } from "./pool.js";
import { seedLocal } from "./seed.js";
import { ensureDatabase } from "./testing.js";

const usage = `usage: ctrl-db migrate | seed
       ctrl-db agent-credential create --region R [--advertise-host H]... [--ports 20000-29999] [--name N]
       ctrl-db agent-credential list
       ctrl-db agent-credential revoke <id>
(DATABASE_URL, default ${defaultDatabaseUrl})`;

const [command, sub, ...rest] = process.argv.slice(2);
const url = process.env.DATABASE_URL ?? defaultDatabaseUrl;
if (
  command !== "migrate" &&
  command !== "seed" &&
  !(command === "agent-credential" && (sub === "create" || sub === "list" || sub === "revoke"))
) {
  console.error(usage);
  process.exit(2);
}
await ensureDatabase(url);
const db = createDb({ url, connectionLimit: 2 });
try {
  const applied = await migrateToLatest(db);
  console.error(applied.length ? `applied migrations: ${applied.join(", ")}` : "migrations: up to date");
  if (command === "seed") {
    const seed = await seedLocal(db);
    console.log(JSON.stringify(seed, null, 2));
  } else if (command === "agent-credential") {
    await agentCredential(sub!, rest);
  }
} catch (err) {
  console.error(`ctrl-db: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}

async function agentCredential(action: string, args: string[]): Promise<void> {
  if (action === "list") {
    console.log(JSON.stringify(await listAgentCredentials(db), null, 2));
    return;
  }
  if (action === "revoke") {
    const id = args[0];
    if (!id) throw new Error("revoke needs the credential id (see `ctrl-db agent-credential list`)");
    if (!(await revokeAgentCredential(db, id, Date.now()))) throw new Error(`no live agent credential ${id}`);
    console.log(JSON.stringify({ revoked: id }));
    return;
  }
  const { values } = parseArgs({
    args,
    options: {
      region: { type: "string" },
      "advertise-host": { type: "string", multiple: true },
      ports: { type: "string" },
      name: { type: "string" },
    },
    strict: true,
  });
  if (!values.region) throw new Error("--region is required (the agent's KRANE_REGION)");
  const ports = /^(\d{1,5})-(\d{1,5})$/.exec(values.ports ?? "20000-29999");
  if (!ports) throw new Error("--ports must look like 20000-29999 (the agent's KRANE_PORT_RANGE)");
  const { credential, token } = await createAgentCredential(db, {
    name: values.name ?? `krane ${values.region}`,
    region: values.region,
    advertiseHosts: values["advertise-host"] ?? ["127.0.0.1"],
    ports: { low: Number(ports[1]), high: Number(ports[2]) },
    now: Date.now(),
  });
  // The token is printed once: put it in the agent's KRANE_TOKEN. Only its sha256 is stored.
  console.log(JSON.stringify({ ...credential, token }, null, 2));
}
