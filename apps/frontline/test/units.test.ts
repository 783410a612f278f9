import { describe, expect, it } from "vitest";
import { loadFrontlineConfig } from "../src/config.js";
import { RouteIndex } from "../src/route-index.js";
import { parseAddresses } from "../src/route-table.js";

describe("parseAddresses", () => {
  it("keeps host:port strings and drops everything else", () => {
    expect(parseAddresses(JSON.stringify(["127.0.0.1:20001", "10.0.0.2:8080"]))).toEqual(["127.0.0.1:20001", "10.0.0.2:8080"]);
    expect(parseAddresses(JSON.stringify(["no-port", 5, null, "a b:1", "http://x:1", "ok:1"]))).toEqual(["ok:1"]);
    expect(parseAddresses(null)).toEqual([]);
    expect(parseAddresses("")).toEqual([]);
    expect(parseAddresses("{not json")).toEqual([]);
    expect(parseAddresses(JSON.stringify({ a: "1.2.3.4:1" }))).toEqual([]);
  });
});

describe("loadFrontlineConfig", () => {
  it("has working local defaults (all but the secret, which has none)", () => {
    const config = loadFrontlineConfig({ CTRL_FRONTLINE_TOKEN: "frontline-0123456789abcdefghijklmnopqrstuvwxyz" });
    expect(config.PORT).toBe(8000);
    expect(config.FRONTLINE_UPSTREAM).toBe("auto");
    expect(config.FRONTLINE_TRUST_FORWARDED).toBe(false);
  });
  it("names the bad variable", () => {
    expect(() => loadFrontlineConfig({ FRONTLINE_UPSTREAM: "magic" })).toThrow(/FRONTLINE_UPSTREAM/);
    expect(() => loadFrontlineConfig({ PORT: "70000" })).toThrow(/PORT/);
    expect(() => loadFrontlineConfig({ FRONTLINE_POLL_INTERVAL_MS: "1" })).toThrow(/FRONTLINE_POLL_INTERVAL_MS/);
  });
});

describe("RouteIndex", () => {
  const row = (id: string, fqdn: string, deploymentId: string, updatedAt: number) => ({
    id,
    fully_qualified_domain_name: fqdn,
    deployment_id: deploymentId,
    environment_id: "env_1",
    project_id: "proj_1",
    workspace_id: "ws_1",
    updated_at: updatedAt,
  });

  it("tracks changes by hash: re-reading an unchanged row changes nothing, a moved route does", () => {
    const index = new RouteIndex();
    index.replaceAll([row("r1", "A.ctrl.localhost", "d_1", 1), row("r2", "b.ctrl.localhost", "d_1", 1)]);
    const version = index.version;
    const fingerprint = index.fingerprint();
    index.upsert([row("r1", "A.ctrl.localhost", "d_1", 1)]);
    expect(index.version).toBe(version);
    expect(index.fingerprint()).toBe(fingerprint);
    // Same millisecond, different deployment: still a change.
    index.upsert([row("r1", "A.ctrl.localhost", "d_2", 1)]);
    expect(index.version).toBeGreaterThan(version);
    expect(index.fingerprint()).not.toBe(fingerprint);
    expect(index.byHostname().get("a.ctrl.localhost")?.deploymentId).toBe("d_2");
    // Moving it back restores the checksum exactly (XOR of per-row hashes).
    index.upsert([row("r1", "A.ctrl.localhost", "d_1", 1)]);
    expect(index.fingerprint()).toBe(fingerprint);
  });

  it("does not let two rows changed alike cancel out (the CRC32 pitfall)", () => {
    const index = new RouteIndex();
    index.replaceAll([row("r1", "live.x", "d_old", 5), row("r2", "env.x", "d_old", 5)]);
    const before = index.fingerprint();
    index.upsert([row("r1", "live.x", "d_new", 5), row("r2", "env.x", "d_new", 5)]);
    expect(index.fingerprint()).not.toBe(before);
    expect(index.size).toBe(2);
    expect(index.maxUpdatedAt()).toBe(5);
  });
});
