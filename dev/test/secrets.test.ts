import { mkdtemp, readFile, rm, stat, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { localSecrets } from "../src/secrets.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "ctrl-dev-secrets-"));
  dirs.push(d);
  return d;
}

describe("localSecrets (the stack's generated secrets.env)", () => {
  it("generates random secrets once, owner-only, and reuses them on the next run", async () => {
    const dir = await dataDir();
    const first = localSecrets(dir);
    expect(first.file).toBe(join(dir, "secrets.env"));
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
    expect(first.secrets.CTRL_OPERATOR_TOKEN.length).toBeGreaterThanOrEqual(32);
    expect(first.secrets.KRANE_TOKEN).toMatch(/^ctrl_agent_/);
    expect(first.secrets.KRANE_VAULT_MASTER_KEYS).toMatch(/^k1:[A-Za-z0-9+/]{43}=$/);
    expect(new Set(Object.values(first.secrets)).size).toBe(4);
    expect(localSecrets(dir).secrets).toEqual(first.secrets);
    // Another data dir: other secrets (nothing is a fixed value).
    expect(localSecrets(await dataDir()).secrets.CTRL_OPERATOR_TOKEN).not.toBe(first.secrets.CTRL_OPERATOR_TOKEN);
  });

  it("keeps what the file has, fills in what is missing, and tightens a loosened mode", async () => {
    const dir = await dataDir();
    const file = join(dir, "secrets.env");
    await writeFile(file, "# kept\nCTRL_OPERATOR_TOKEN=operator-from-an-earlier-run-0123456789abcdef\n");
    await chmod(file, 0o644);
    const { secrets } = localSecrets(dir);
    expect(secrets.CTRL_OPERATOR_TOKEN).toBe("operator-from-an-earlier-run-0123456789abcdef");
    expect(secrets.CTRL_FRONTLINE_TOKEN).toMatch(/^ctrl_frontline_/);
    expect(await readFile(file, "utf8")).toContain(`CTRL_FRONTLINE_TOKEN=${secrets.CTRL_FRONTLINE_TOKEN}`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
