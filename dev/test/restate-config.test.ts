import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Ports } from "../src/config.js";
import { restateIdentityOf, restateToml } from "../src/specs.js";

const ports: Ports = {
  api: 7070,
  grpc: 7071,
  restateIngress: 8080,
  restateAdmin: 9070,
  restateNode: 5122,
  s3: 9000,
  worker: 9080,
  workerHealth: 9081,
  mysql: 3307,
  frontline: 8000,
  krane: 7090,
};
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

// Guarantee: the local stack's Restate is a private surface that signs what it sends to the worker.
describe("the local stack's restate-server", () => {
  it("binds every listener to loopback and signs requests with the identity key", () => {
    const toml = restateToml("/data/restate", ports, "/data/restate-identity.pem");
    const binds = toml.split("\n").filter((l) => l.startsWith("bind-address"));
    expect(binds).toEqual(['bind-address = "127.0.0.1:5122"', 'bind-address = "127.0.0.1:9070"', 'bind-address = "127.0.0.1:8080"']);
    // A top-level key: it must come before the first [table].
    const identity = toml.indexOf('request-identity-private-key-pem-file = "/data/restate-identity.pem"');
    expect(identity).toBeGreaterThan(0);
    expect(identity).toBeLessThan(toml.indexOf("[admin]"));
  });

  it("keeps one identity per data dir, private to its owner, so the worker's key stays valid across runs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ctrl-dev-identity-"));
    dirs.push(dir);
    const first = restateIdentityOf(dir);
    expect(first.publicKey).toMatch(/^publickeyv1_[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
    expect(restateIdentityOf(dir)).toEqual(first);
    const other = await mkdtemp(join(tmpdir(), "ctrl-dev-identity-"));
    dirs.push(other);
    expect(restateIdentityOf(other).publicKey).not.toBe(first.publicKey);
  });
});
