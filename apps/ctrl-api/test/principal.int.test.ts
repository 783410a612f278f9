/**
 * The one auth path of both surfaces: a root key string becomes a principal (or `unknown_credential`)
 * in one place, the Connect surface authenticates every kind of credential through it, and each
 * surface renders every refusal from its own table. Real MySQL, fresh database.
 */
import { Code } from "@connectrpc/connect";
import { createAgentCredential, createRootKey, seedLocal } from "@ctrl/db";
import { createTestDatabase, type TestDatabase } from "@ctrl/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectErrorOf } from "../src/auth.js";
import { httpErrorOf } from "../src/http/v2/envelope.js";
import { authenticate, principalFromRootKey, type AuthRefusal } from "../src/principal.js";

let database: TestDatabase;
let workspaceId: string;
const now = 1_700_000_000_000;
const tokens = { operatorToken: `operator-${"o".repeat(32)}`, frontlineToken: `frontline-${"f".repeat(32)}` };

beforeAll(async () => {
  database = await createTestDatabase();
  workspaceId = (await seedLocal(database.db, now)).workspaceId;
});
afterAll(async () => {
  await database?.drop();
});

describe("principalFromRootKey", () => {
  it("turns a live root key into its workspace's principal with the key's permissions", async () => {
    const { id, key } = await createRootKey(database.db, { workspaceId, name: "ci", permissions: ["project.*.read_deployment"], now });
    expect(await principalFromRootKey(database.db, key, now)).toEqual({
      ok: true,
      principal: { kind: "root_key", keyId: id, workspaceId, permissions: ["project.*.read_deployment"] },
    });
  });

  it("refuses an unknown, revoked or expired key as unknown_credential", async () => {
    expect(await principalFromRootKey(database.db, "ctrl_doesnotexist", now)).toEqual({
      ok: false,
      refusal: { reason: "unknown_credential" },
    });
    const revoked = await createRootKey(database.db, { workspaceId, name: "revoked", permissions: ["project.*.*"], now });
    await database.db.updateTable("api_keys").set({ deleted_at: now }).where("id", "=", revoked.id).execute();
    expect(await principalFromRootKey(database.db, revoked.key, now)).toMatchObject({ ok: false });
    const expired = await createRootKey(database.db, { workspaceId, name: "expired", permissions: ["project.*.*"], now });
    await database.db.updateTable("api_keys").set({ expires_at: now }).where("id", "=", expired.id).execute();
    expect(await principalFromRootKey(database.db, expired.key, now)).toMatchObject({ ok: false });
  });
});

describe("authenticate (the Connect surface's credentials)", () => {
  it("knows the operator token, frontline's token, an agent credential and a root key", async () => {
    expect(await authenticate(database.db, tokens, tokens.operatorToken, now)).toEqual({ ok: true, principal: { kind: "operator" } });
    expect(await authenticate(database.db, tokens, tokens.frontlineToken, now)).toEqual({ ok: true, principal: { kind: "frontline" } });
    const agent = await createAgentCredential(database.db, {
      name: "agent",
      region: "local",
      advertiseHosts: ["127.0.0.1"],
      ports: { low: 20000, high: 29999 },
      now,
    });
    expect(await authenticate(database.db, tokens, agent.token, now)).toEqual({
      ok: true,
      principal: {
        kind: "agent",
        credentialId: agent.credential.id,
        region: "local",
        advertiseHosts: ["127.0.0.1"],
        ports: { low: 20000, high: 29999 },
      },
    });
    const root = await createRootKey(database.db, { workspaceId, name: "any", permissions: [], now });
    expect(await authenticate(database.db, tokens, root.key, now)).toMatchObject({
      ok: true,
      principal: { kind: "root_key", keyId: root.id },
    });
    expect(await authenticate(database.db, tokens, "nobody-knows-this-token-0123456789", now)).toEqual({
      ok: false,
      refusal: { reason: "unknown_credential" },
    });
  });
});

describe("refusal tables", () => {
  // [refusal, Connect code + message, HTTP status + title + detail]: each surface's rendering, kept as it was.
  const cases: [AuthRefusal, [Code, string], [number, string, string]][] = [
    [
      { reason: "bad_header", problem: "missing Authorization header: send 'Authorization: Bearer <token>'" },
      [Code.Unauthenticated, "missing Authorization header: send 'Authorization: Bearer <token>'"],
      [400, "Bad Request", "missing Authorization header: send 'Authorization: Bearer <token>'"],
    ],
    [
      { reason: "unknown_credential" },
      [
        Code.Unauthenticated,
        "invalid bearer token: no service token, agent credential or root key matches (revoked credentials are refused)",
      ],
      [401, "Unauthorized", "The root key is invalid, expired or revoked."],
    ],
    [
      { reason: "wrong_service", problem: "an agent credential may only call ctrl.v1.ClusterService" },
      [Code.PermissionDenied, "an agent credential may only call ctrl.v1.ClusterService"],
      [403, "Forbidden", "an agent credential may only call ctrl.v1.ClusterService"],
    ],
    [
      { reason: "unauthenticated" },
      [Code.Unauthenticated, "unauthenticated"],
      [401, "Unauthorized", "The root key is invalid, expired or revoked."],
    ],
    [
      { reason: "not_a_project_principal", principalKind: "agent" },
      [Code.PermissionDenied, "a agent credential cannot act on projects"],
      [403, "Forbidden", "This agent credential cannot act on projects; use a root key."],
    ],
    [{ reason: "project_not_found" }, [Code.NotFound, "project proj_a not found"], [404, "Not Found", "Project proj_a does not exist."]],
    [
      { reason: "missing_permission", projectId: "proj_a", action: "generate_upload_url" },
      [Code.PermissionDenied, "permission denied: the key lacks project.proj_a.generate_upload_url"],
      [403, "Forbidden", "The root key lacks the permission project.proj_a.generate_upload_url (or project.*.generate_upload_url)."],
    ],
  ];
  it.each(cases)("renders %j on each surface", (refusal, [code, message], [status, title, detail]) => {
    const connect = connectErrorOf(refusal, { notFoundMessage: "project proj_a not found" });
    expect([connect.code, connect.rawMessage]).toEqual([code, message]);
    const http = httpErrorOf(refusal, { notFoundDetail: "Project proj_a does not exist." });
    expect([http.status, http.title, http.detail]).toEqual([status, title, detail]);
  });
});
