/**
 * Agent credentials against a real MariaDB, minted and revoked through the real `ctrl-db` CLI:
 * the token is printed once and only its sha256 is stored; a revoked credential is never found again
 * (and `ensureAgentCredential`, what the local stack runs at every start, never revives it); bad
 * bounds are refused with a message naming them.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentCredential, ensureAgentCredential, findAgentCredential, hashKey } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "cli.ts");
let database: TestDatabase;

/** Runs `ctrl-db …` against the test database; resolves with stdout, or the failure's stderr. */
async function ctrlDb(...args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", pathToFileURL(require.resolve("tsx")).href, cli, ...args], {
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: database.url },
    });
    return { ok: true, stdout, stderr };
  } catch (err) {
    const e = err as { stdout: string; stderr: string };
    return { ok: false, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
}, 60_000);
afterAll(async () => database?.drop());

describe("ctrl-db agent-credential", () => {
  it("creates a credential bound to a region, hosts and ports; stores only the token's hash; revokes it", async () => {
    const created = await ctrlDb(
      "agent-credential",
      "create",
      "--region",
      "eu-1",
      "--advertise-host",
      "10.0.0.5",
      "--advertise-host",
      "node-5",
      "--ports",
      "21000-21999",
    );
    expect(created.ok, created.stderr).toBe(true);
    const out = JSON.parse(created.stdout) as {
      id: string;
      token: string;
      region: string;
      advertiseHosts: string[];
      ports: { low: number; high: number };
    };
    expect(out).toMatchObject({ region: "eu-1", advertiseHosts: ["10.0.0.5", "node-5"], ports: { low: 21000, high: 21999 } });
    expect(out.token).toMatch(/^ctrl_agent_[1-9A-HJ-NP-Za-km-z]{40,}$/);
    const row = await database.db.selectFrom("agent_credentials").selectAll().where("id", "=", out.id).executeTakeFirstOrThrow();
    expect(row.token_sha256).toBe(hashKey(out.token));
    expect(JSON.stringify(row)).not.toContain(out.token);
    expect(await findAgentCredential(database.db, out.token)).toMatchObject({ id: out.id, region: "eu-1" });

    const revoked = await ctrlDb("agent-credential", "revoke", out.id);
    expect(revoked.ok, revoked.stderr).toBe(true);
    expect(await findAgentCredential(database.db, out.token)).toBeUndefined();
    // A restart of the local stack must not bring it back.
    await expect(
      ensureAgentCredential(database.db, {
        token: out.token,
        name: "x",
        region: "eu-1",
        advertiseHosts: ["10.0.0.5"],
        ports: { low: 21000, high: 21999 },
        now: Date.now(),
      }),
    ).rejects.toThrow(/was revoked/);
    const again = await ctrlDb("agent-credential", "revoke", out.id);
    expect(again.ok).toBe(false);
    expect(again.stderr).toContain(`no live agent credential ${out.id}`);
    const listed = JSON.parse((await ctrlDb("agent-credential", "list")).stdout) as { id: string; revokedAt: number | null }[];
    expect(listed.find((c) => c.id === out.id)?.revokedAt).toEqual(expect.any(Number));
  });

  it("refuses a missing region, a bad region, a bad port range and a bad host, naming them", async () => {
    expect((await ctrlDb("agent-credential", "create")).stderr).toContain("--region is required");
    const mint = (over: Partial<Parameters<typeof createAgentCredential>[1]>) =>
      createAgentCredential(database.db, {
        name: "x",
        region: "eu-1",
        advertiseHosts: ["127.0.0.1"],
        ports: { low: 20000, high: 29999 },
        now: Date.now(),
        ...over,
      });
    await expect(mint({ region: "a b" })).rejects.toThrow('region "a b" must be 1-64 characters');
    await expect(mint({ ports: { low: 3000, high: 2000 } })).rejects.toThrow("port range 3000-2000 must be ascending");
    await expect(mint({ advertiseHosts: ["http://x"] })).rejects.toThrow('advertise host "http://x" is not a host name');
    await expect(mint({ advertiseHosts: [] })).rejects.toThrow("at least one advertise host");
    expect(await database.db.selectFrom("agent_credentials").select("id").where("name", "=", "x").execute()).toEqual([]);
  });

  it("ensureAgentCredential registers a given token once and updates its bounds", async () => {
    const token = `ctrl_agent_${"z".repeat(40)}`;
    const first = await ensureAgentCredential(database.db, {
      token,
      name: "local",
      region: "local",
      advertiseHosts: ["127.0.0.1"],
      ports: { low: 20000, high: 29999 },
      now: Date.now(),
    });
    const second = await ensureAgentCredential(database.db, {
      token,
      name: "local",
      region: "local",
      advertiseHosts: ["127.0.0.1"],
      ports: { low: 20000, high: 20099 },
      now: Date.now(),
    });
    expect(second.id).toBe(first.id);
    expect((await findAgentCredential(database.db, token))?.ports).toEqual({ low: 20000, high: 20099 });
    await expect(
      ensureAgentCredential(database.db, {
        token: "short",
        name: "x",
        region: "local",
        advertiseHosts: ["127.0.0.1"],
        ports: { low: 1, high: 2 },
        now: 0,
      }),
    ).rejects.toThrow(/at least 32 characters/);
  });
});
