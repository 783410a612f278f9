/**
 * `DeploymentService.CreateS3UploadURL` and `CtrlService.Liveness` through real clients over every
 * protocol ctrl-api serves: Connect (binary and JSON, HTTP/1.1), gRPC (h2c), gRPC-Web, and Connect
 * JSON as a plain `fetch` POST (what `curl` does). Guarantees: Liveness needs no auth; every other
 * call needs a bearer token and is `unauthenticated` with a message saying what was wrong; with the
 * internal token or a root key the URL accepts a real PUT; a root key never reaches a project of
 * another workspace (`not_found`, like a missing one) and needs the permission (`permission_denied`).
 */
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createRootKey, newId } from "@ctrl/db";
import { CtrlService, DeploymentService } from "@ctrl/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
let transports: Record<string, Transport>;
/** A root key of a second workspace, which has its own project. */
let other: { projectId: string; rootKey: string };

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  transports = {
    "connect binary (HTTP/1.1)": createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1", useBinaryFormat: true }),
    "connect JSON (HTTP/1.1)": createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" }),
    "gRPC (h2c)": createGrpcTransport({ baseUrl: stack.grpcUrl }),
    "gRPC-Web (HTTP/1.1)": createGrpcWebTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" }),
  };
  const db = stack.deps.db;
  const now = Date.now();
  const workspaceId = newId("ws");
  await db.insertInto("workspaces").values({ id: workspaceId, name: "other", slug: "other", created_at: now, updated_at: now }).execute();
  const projectId = newId("proj");
  await db
    .insertInto("projects")
    .values({ id: projectId, workspace_id: workspaceId, name: "x", slug: "x", live_deployment_id: null, created_at: now, updated_at: now })
    .execute();
  const { key } = await createRootKey(db, { workspaceId, name: "other", permissions: ["project.*.*"], now });
  other = { projectId, rootKey: key };
}, 60_000);
afterAll(async () => stack?.close());

const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** The ConnectError a call fails with (fails the test when it succeeds). */
async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail, it succeeded");
}

/** PUTs a small body to a presigned URL with plain fetch and reads it back from S3 under `key`. */
async function expectUploadWorks(uploadUrl: string, key: string) {
  const body = Buffer.from(`context for ${key}`);
  const put = await fetch(uploadUrl, { method: "PUT", body });
  expect(put.status).toBe(200);
  const stored = await stack.storage.getObject(key);
  expect(stored && Buffer.from(stored).equals(body)).toBe(true);
}

describe("CtrlService.Liveness needs no auth", () => {
  it.each(["connect binary (HTTP/1.1)", "connect JSON (HTTP/1.1)", "gRPC (h2c)", "gRPC-Web (HTTP/1.1)"])("over %s", async (name) => {
    const live = await createClient(CtrlService, transports[name]!).liveness({});
    expect(live).toMatchObject({ status: "ok", version: "test", instanceId: "api-test" });
  });

  it("over Connect JSON as a plain POST", async () => {
    const res = await fetch(`${stack.apiUrl}/ctrl.v1.CtrlService/Liveness`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(await res.json()).toEqual({ status: "ok", version: "test", instanceId: "api-test" });
  });
});

describe("CreateS3UploadURL over a Connect client (HTTP/1.1)", () => {
  const client = () => createClient(DeploymentService, transports["connect binary (HTTP/1.1)"]!);

  it("is unauthenticated without a token, saying the header is missing", async () => {
    const err = await failure(client().createS3UploadURL({ unkeyProjectId: stack.seed.projectId }));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/missing Authorization header/);
  });

  it.each(["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "ctrl_tokenWithoutScheme"])(
    "is unauthenticated for the malformed header %j",
    async (header) => {
      const err = await failure(
        client().createS3UploadURL({ unkeyProjectId: stack.seed.projectId }, { headers: { authorization: header } }),
      );
      expect(err.code).toBe(Code.Unauthenticated);
      expect(err.rawMessage).toMatch(/malformed Authorization header/);
    },
  );

  it("is unauthenticated for a wrong token, and the message says so", async () => {
    const err = await failure(client().createS3UploadURL({ unkeyProjectId: stack.seed.projectId }, auth("wrong-token-0123456789abcdef")));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/invalid bearer token/);
  });

  it("returns a working URL with the internal token", async () => {
    const res = await client().createS3UploadURL({ unkeyProjectId: stack.seed.projectId }, auth(stack.operatorToken));
    expect(res.buildContextPath).toMatch(new RegExp(`^${stack.seed.projectId}/build_[1-9A-HJ-NP-Za-km-z]+\\.tar\\.gz$`));
    const url = new URL(res.uploadUrl);
    expect(decodeURIComponent(url.pathname)).toBe(`/${stack.storage.bucket}/${res.buildContextPath}`);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    await expectUploadWorks(res.uploadUrl, res.buildContextPath);
  });

  it("returns a working URL with a root key of the project's workspace", async () => {
    const res = await client().createS3UploadURL({ unkeyProjectId: stack.seed.projectId }, auth(stack.seed.rootKey));
    await expectUploadWorks(res.uploadUrl, res.buildContextPath);
  });

  it("is not_found for a root key of another workspace, exactly like a missing project", async () => {
    const foreign = await failure(client().createS3UploadURL({ unkeyProjectId: stack.seed.projectId }, auth(other.rootKey)));
    expect(foreign.code).toBe(Code.NotFound);
    const missing = await failure(client().createS3UploadURL({ unkeyProjectId: "proj_missing123" }, auth(other.rootKey)));
    expect(missing.code).toBe(Code.NotFound);
    expect(foreign.rawMessage.replace(stack.seed.projectId, "<id>")).toBe(missing.rawMessage.replace("proj_missing123", "<id>"));
    // …while the same key reaches its own project.
    const own = await client().createS3UploadURL({ unkeyProjectId: other.projectId }, auth(other.rootKey));
    expect(own.buildContextPath.startsWith(`${other.projectId}/`)).toBe(true);
  });

  it("is not_found for a missing project with the internal token", async () => {
    const err = await failure(client().createS3UploadURL({ unkeyProjectId: "proj_missing123" }, auth(stack.operatorToken)));
    expect(err.code).toBe(Code.NotFound);
  });

  it("is permission_denied for a root key without generate_upload_url", async () => {
    const { key } = await createRootKey(stack.deps.db, {
      workspaceId: stack.seed.workspaceId,
      name: "ro",
      permissions: ["project.*.read_deployment"],
      now: Date.now(),
    });
    const err = await failure(client().createS3UploadURL({ unkeyProjectId: stack.seed.projectId }, auth(key)));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toContain("generate_upload_url");
  });

  it("is invalid_argument without a project id", async () => {
    for (const unkeyProjectId of ["", "   "]) {
      const err = await failure(client().createS3UploadURL({ unkeyProjectId }, auth(stack.operatorToken)));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/unkey_project_id is required/);
    }
  });

  it("is not_found (not internal) for a project id that cannot be a key prefix", async () => {
    const err = await failure(client().createS3UploadURL({ unkeyProjectId: "../etc" }, auth(stack.operatorToken)));
    expect(err.code).toBe(Code.NotFound);
  });
});

describe("CreateS3UploadURL over the other protocols", () => {
  it.each(["connect JSON (HTTP/1.1)", "gRPC (h2c)", "gRPC-Web (HTTP/1.1)"])(
    "works over %s, and is unauthenticated without a token",
    async (name) => {
      const client = createClient(DeploymentService, transports[name]!);
      const err = await failure(client.createS3UploadURL({ unkeyProjectId: stack.seed.projectId }));
      expect(err.code).toBe(Code.Unauthenticated);
      expect(err.rawMessage).toMatch(/missing Authorization header/);
      const res = await client.createS3UploadURL({ unkeyProjectId: stack.seed.projectId }, auth(stack.operatorToken));
      await expectUploadWorks(res.uploadUrl, res.buildContextPath);
    },
  );

  it("works as a plain Connect JSON POST (curl-style)", async () => {
    const url = `${stack.apiUrl}/ctrl.v1.DeploymentService/CreateS3UploadURL`;
    const body = JSON.stringify({ unkeyProjectId: stack.seed.projectId });
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.operatorToken}` },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const json = (await res.json()) as { uploadUrl: string; buildContextPath: string };
    expect(Object.keys(json).sort()).toEqual(["buildContextPath", "uploadUrl"]);
    await expectUploadWorks(json.uploadUrl, json.buildContextPath);

    // Without a token: HTTP 401 with the Connect error JSON.
    const denied = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ code: "unauthenticated", message: expect.stringMatching(/missing Authorization header/) });

    // The proto field name is accepted too (protobuf JSON); an unknown field is rejected.
    const protoName = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.operatorToken}` },
      body: JSON.stringify({ unkey_project_id: stack.seed.projectId }),
    });
    expect(protoName.status).toBe(200);
    const unknown = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.operatorToken}` },
      body: JSON.stringify({ projectId: stack.seed.projectId }),
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { code: string }).code).toBe("invalid_argument");
  });
});
