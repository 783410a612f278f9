/**
 * `node --import tsx dev/src/compose-secrets.ts <dir>`: docker-compose's setup step. Generates the
 * stack's secrets once into `<dir>/secrets.env` (mode 0600; the same file `pnpm dev` keeps in its
 * data dir), the storage vault keys into `<dir>/vault.keys`, and registers the agent credential of
 * KRANE_TOKEN for region `local` on host `krane` (how frontline reaches the agent's instances there).
 * Reads DATABASE_URL. Idempotent: later runs reuse the files.
 */
import { createDb, ensureAgentCredential } from "@ctrl/db";
import { vaultKeysOf } from "./acme.js";
import { localSecrets } from "./secrets.js";
import { localInstancePorts } from "./specs.js";

const dir = process.argv[2];
const databaseUrl = process.env.DATABASE_URL;
if (!dir || !databaseUrl) {
  console.error("usage: DATABASE_URL=… compose-secrets.ts <dir>");
  process.exit(2);
}
const { secrets, file } = localSecrets(dir);
vaultKeysOf(dir);
const db = createDb({ url: databaseUrl, connectionLimit: 1 });
try {
  const credential = await ensureAgentCredential(db, {
    token: secrets.KRANE_TOKEN,
    name: "compose krane",
    region: "local",
    advertiseHosts: ["krane"],
    ports: localInstancePorts,
    now: Date.now(),
  });
  console.log(
    `secrets in ${file} (0600); agent credential ${credential.id} for region local on krane:${localInstancePorts.low}-${localInstancePorts.high}`,
  );
} finally {
  await db.destroy();
}
