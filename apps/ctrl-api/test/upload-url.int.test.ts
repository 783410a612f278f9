// Long because the upload-URL cases share one stack and S3 server.
/**
 * `POST /v2/deploy.generateUploadUrl` end to end against real servers (MariaDB, s3rver, ctrl-api on
 * HTTP/1.1). Guarantees: a root key with the permission gets a 15-minute presigned PUT scoped to the
 * project's prefix that really stores the upload; every error rule of docs/architecture.md section 5 answers
 * with the envelope and the right status; a failed request writes nothing to S3 or the database; a
 * project of another workspace is indistinguishable from a missing one.
 */
import { createRootKey, newId, sql, type Db } from "@ctrl/db";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
/** A workspace other than the seeded one, with its own project and a root key with every permission. */
let other: { workspaceId: string; projectId: string; rootKey: string };

beforeAll(async () => {
  // No worker: this endpoint never touches Restate.
  stack = await startTestStack({ worker: false });
  other = await createWorkspace(stack.deps.db, "other");
}, 60_000);
afterAll(async () => stack?.close());

// ---------------------------------------------------------------------------------------------
// helpers

async function createWorkspace(db: Db, slug: string) {
  const now = Date.now();
  const workspaceId = newId("ws");
  await db.insertInto("workspaces").values({ id: workspaceId, name: slug, slug, created_at: now, updated_at: now }).execute();
  const projectId = await createProject(db, workspaceId, `${slug}-app`);
  const { key } = await createRootKey(db, { workspaceId, name: `${slug} root`, permissions: ["project.*.*"], now });
  return { workspaceId, projectId, rootKey: key };
}

async function createProject(db: Db, workspaceId: string, slug: string): Promise<string> {
  const now = Date.now();
  const id = newId("proj");
  await db
    .insertInto("projects")
    .values({ id, workspace_id: workspaceId, name: slug, slug, live_deployment_id: null, created_at: now, updated_at: now })
    .execute();
  return id;
}

interface Reply {
  status: number;
  requestId: string | null;
  body: any;
}

async function generateUploadUrl(body: string | undefined, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${stack.apiUrl}/v2/deploy.generateUploadUrl`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`status ${res.status}: not JSON: ${text.slice(0, 300)}`);
  }
  return { status: res.status, requestId: res.headers.get("x-request-id"), body: parsed };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Asserts the error envelope `{meta:{requestId}, error:{title,detail,status,type,errors?}}` and returns `error`. */
function expectErrorEnvelope(reply: Reply, status: number) {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.requestId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  expect(Object.keys(reply.body).sort()).toEqual(["error", "meta"]);
  expect(reply.body.meta).toEqual({ requestId: reply.requestId });
  const error = reply.body.error;
  expect(
    Object.keys(error)
      .filter((k) => k !== "errors")
      .sort(),
  ).toEqual(["detail", "status", "title", "type"]);
  expect(error.status).toBe(status);
  expect(typeof error.title).toBe("string");
  expect(error.title.length).toBeGreaterThan(0);
  expect(typeof error.detail).toBe("string");
  expect(error.detail.length).toBeGreaterThan(0);
  expect(error.type).toMatch(/^https:\/\/\S+$/);
  if ("errors" in error) {
    expect(Array.isArray(error.errors)).toBe(true);
    for (const e of error.errors) expect(Object.keys(e).sort()).toEqual(["location", "message"]);
  }
  return error as { title: string; detail: string; status: number; type: string; errors?: { location: string; message: string }[] };
}

/** Every object in the bucket and the row count of every table: what "nothing was written" compares. */
async function snapshot() {
  const db = stack.deps.db;
  const tables = await sql<{
    name: string;
  }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`.execute(db);
  const rows: Record<string, number> = {};
  for (const { name } of tables.rows) {
    const counted = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${sql.table(name)}`.execute(db);
    rows[name] = Number(counted.rows[0]!.n);
  }
  expect(Object.keys(rows)).toContain("api_keys");
  return { objects: (await stack.storage.listKeys()).sort(), rows };
}

/** A real gzip'ed tar (ustar) archive with one file, built byte by byte. */
function makeTarGz(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content, "utf8");
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string) => header.write(value, offset, length, "ascii");
    field(0, 100, name);
    field(100, 8, "0000644\0");
    field(108, 8, "0000000\0");
    field(116, 8, "0000000\0");
    field(124, 12, data.length.toString(8).padStart(11, "0") + "\0");
    field(
      136,
      12,
      Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, "0") + "\0",
    );
    field(148, 8, "        ");
    field(156, 1, "0");
    field(257, 6, "ustar\0");
    field(263, 2, "00");
    let sum = 0;
    for (const byte of header) sum += byte;
    field(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

// ---------------------------------------------------------------------------------------------

describe("generateUploadUrl: the upload flow", () => {
  it("issues a 15-minute presigned PUT under the project's prefix that stores a real .tar.gz", async () => {
    const projectId = stack.seed.projectId;
    const reply = await generateUploadUrl(JSON.stringify({ projectId }), bearer(stack.seed.rootKey));
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.requestId).toBeTruthy();
    expect(reply.body).toEqual({
      meta: { requestId: reply.requestId },
      data: { uploadUrl: expect.any(String), context: expect.any(String) },
    });
    const { uploadUrl, context } = reply.body.data as { uploadUrl: string; context: string };

    // The key is scoped to the project's prefix, in the layout of docs/wire.md.
    expect(context).toMatch(new RegExp(`^${projectId}/build_[1-9A-HJ-NP-Za-km-z]+\\.tar\\.gz$`));
    const url = new URL(uploadUrl);
    expect(url.origin).toBe(stack.s3.endpoint);
    expect(decodeURIComponent(url.pathname)).toBe(`/${stack.storage.bucket}/${context}`);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(url.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get("x-id")).toBe("PutObject");

    // Nothing is stored until the client uploads.
    expect(await stack.storage.getObject(context)).toBeUndefined();

    const archive = makeTarGz({ Dockerfile: "FROM scratch\n", "index.js": "console.log('hello')\n" });
    const put = await fetch(uploadUrl, { method: "PUT", body: archive });
    expect(put.status, await put.clone().text()).toBe(200);

    const stored = await stack.storage.getObject(context);
    expect(stored).toBeDefined();
    expect(Buffer.from(stored!).equals(archive)).toBe(true);
    const tar = gunzipSync(Buffer.from(stored!));
    expect(tar.subarray(0, 10).toString("ascii")).toBe("Dockerfile");
    expect(tar.subarray(257, 262).toString("ascii")).toBe("ustar");
    expect(await stack.storage.listKeys(`${projectId}/`)).toContain(context);
  });

  it("gives every request its own key, also under concurrency", async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => generateUploadUrl(JSON.stringify({ projectId: stack.seed.projectId }), bearer(stack.seed.rootKey))),
    );
    for (const r of replies) expect(r.status).toBe(200);
    expect(new Set(replies.map((r) => r.body.data.context)).size).toBe(20);
    expect(new Set(replies.map((r) => r.requestId)).size).toBe(20);
  });

  it("echoes a well-formed incoming x-request-id and replaces an unsafe one", async () => {
    const kept = await generateUploadUrl(JSON.stringify({ projectId: stack.seed.projectId }), {
      ...bearer(stack.seed.rootKey),
      "x-request-id": "trace-abc_123",
    });
    expect(kept.requestId).toBe("trace-abc_123");
    expect(kept.body.meta.requestId).toBe("trace-abc_123");
    const replaced = await generateUploadUrl(JSON.stringify({ projectId: stack.seed.projectId }), {
      ...bearer(stack.seed.rootKey),
      "x-request-id": "bad id<script>",
    });
    expect(replaced.requestId).toMatch(/^req_/);
    expect(replaced.body.meta.requestId).toBe(replaced.requestId);
  });
});

describe("generateUploadUrl: error rules (nothing is written on any of them)", () => {
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    before = await snapshot();
  });
  afterEach(async () => {
    // Every request in this block failed: the bucket and every table are exactly as before it.
    expect(await snapshot()).toEqual(before);
  });

  const body = () => JSON.stringify({ projectId: stack.seed.projectId });

  it("400 without an Authorization header", async () => {
    const error = expectErrorEnvelope(await generateUploadUrl(body()), 400);
    expect(error.detail).toMatch(/missing Authorization header/);
  });

  it.each(["ctrl_abc", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token ctrl_abc"])(
    "400 for the malformed header %j",
    async (header) => {
      const error = expectErrorEnvelope(await generateUploadUrl(body(), { authorization: header }), 400);
      expect(error.detail).toMatch(/malformed Authorization header/);
      expect(error.errors).toBeUndefined();
    },
  );

  it("401 for a key that does not exist", async () => {
    const error = expectErrorEnvelope(await generateUploadUrl(body(), bearer("ctrl_doesNotExist123456789")), 401);
    expect(error.detail).toMatch(/root key is invalid/);
  });

  it("checks the header, then the key, then the body (a bad body never hides an auth failure)", async () => {
    const noHeader = expectErrorEnvelope(await generateUploadUrl("{not json"), 400);
    expect(noHeader.detail).toMatch(/missing Authorization header/);
    expect(noHeader.errors).toBeUndefined();
    expectErrorEnvelope(await generateUploadUrl("{not json", bearer("ctrl_doesNotExist123456789")), 401);
    expectErrorEnvelope(await generateUploadUrl(JSON.stringify({ projectId: other.projectId }), bearer("ctrl_doesNotExist123456789")), 401);
  });

  it("401 for an internal API token (root keys only on the public API)", async () => {
    expectErrorEnvelope(await generateUploadUrl(body(), bearer(stack.operatorToken)), 401);
  });

  it("401 for an expired and for a revoked key", async () => {
    const db = stack.deps.db;
    const now = Date.now();
    const expired = await createRootKey(db, { workspaceId: stack.seed.workspaceId, name: "expired", permissions: ["project.*.*"], now });
    await db
      .updateTable("api_keys")
      .set({ expires_at: now - 1_000 })
      .where("id", "=", expired.id)
      .execute();
    const revoked = await createRootKey(db, { workspaceId: stack.seed.workspaceId, name: "revoked", permissions: ["project.*.*"], now });
    await db
      .updateTable("api_keys")
      .set({ deleted_at: now - 1_000 })
      .where("id", "=", revoked.id)
      .execute();
    before = await snapshot(); // the two keys above are this test's setup, not the endpoint's writes
    expectErrorEnvelope(await generateUploadUrl(body(), bearer(expired.key)), 401);
    expectErrorEnvelope(await generateUploadUrl(body(), bearer(revoked.key)), 401);
  });

  it("403 for a key of the workspace without project.<id|*>.generate_upload_url", async () => {
    const { key } = await createRootKey(stack.deps.db, {
      workspaceId: stack.seed.workspaceId,
      name: "read only",
      permissions: ["project.*.read_deployment", "project.proj_someOther.generate_upload_url"],
      now: Date.now(),
    });
    before = await snapshot();
    const error = expectErrorEnvelope(await generateUploadUrl(body(), bearer(key)), 403);
    expect(error.detail).toContain(`project.${stack.seed.projectId}.generate_upload_url`);
  });

  it("404 for a project of another workspace, with the same body as a missing project", async () => {
    const missingId = "proj_doesNotExist1234567";
    const foreign = expectErrorEnvelope(
      await generateUploadUrl(JSON.stringify({ projectId: other.projectId }), bearer(stack.seed.rootKey)),
      404,
    );
    const missing = expectErrorEnvelope(await generateUploadUrl(JSON.stringify({ projectId: missingId }), bearer(stack.seed.rootKey)), 404);
    // Identical once the project id the caller sent is masked: nothing reveals that the project exists.
    const mask = (e: typeof foreign, id: string) => ({ ...e, detail: e.detail.split(id).join("<id>") });
    expect(mask(foreign, other.projectId)).toEqual(mask(missing, missingId));
    expect(foreign.detail).toContain(other.projectId);

    // The other workspace's own key does reach it (the 404 is about the workspace, not the project).
    const own = await generateUploadUrl(JSON.stringify({ projectId: other.projectId }), bearer(other.rootKey));
    expect(own.status).toBe(200);
    // No re-baseline here: the afterEach compares with the state before this test, so the 200 above
    // is checked too (presigning writes nothing, not even to the bucket).
  });

  it("404, not 403, for a foreign project even when the key lacks the permission", async () => {
    const { key } = await createRootKey(stack.deps.db, {
      workspaceId: stack.seed.workspaceId,
      name: "none",
      permissions: [],
      now: Date.now(),
    });
    before = await snapshot();
    expectErrorEnvelope(await generateUploadUrl(JSON.stringify({ projectId: other.projectId }), bearer(key)), 404);
  });

  const bodyCases: [string, string | undefined, string][] = [
    ["an empty body", undefined, "body"],
    ["a blank body", "   ", "body"],
    ["malformed JSON", '{"projectId": ', "body"],
    ["a JSON array", "[]", "body"],
    ["a JSON string", '"proj_x"', "body"],
    ["JSON null", "null", "body"],
    ["a missing projectId", "{}", "body.projectId"],
    ["a numeric projectId", '{"projectId": 123}', "body.projectId"],
    ["a null projectId", '{"projectId": null}', "body.projectId"],
    ["an empty projectId", '{"projectId": ""}', "body.projectId"],
    ["a blank projectId", '{"projectId": "   "}', "body.projectId"],
    ["a 65-character projectId", JSON.stringify({ projectId: "p".repeat(65) }), "body.projectId"],
  ];
  it.each(bodyCases)("400 with errors[] naming the field for %s", async (_name, raw, location) => {
    const error = expectErrorEnvelope(await generateUploadUrl(raw, bearer(stack.seed.rootKey)), 400);
    expect(error.errors?.length).toBeGreaterThan(0);
    expect(error.errors!.map((e) => e.location)).toContain(location);
    expect(error.detail.length).toBeGreaterThan(0);
  });

  it("400 with errors[] for a body sent without a content type", async () => {
    const res = await fetch(`${stack.apiUrl}/v2/deploy.generateUploadUrl`, { method: "POST", headers: bearer(stack.seed.rootKey) });
    const reply = { status: res.status, requestId: res.headers.get("x-request-id"), body: await res.json() };
    const error = expectErrorEnvelope(reply, 400);
    expect(error.errors!.map((e) => e.location)).toContain("body");
  });

  it("413 with the envelope for a body over 1 MiB", async () => {
    const huge = JSON.stringify({ projectId: stack.seed.projectId, padding: "x".repeat(1024 * 1024 + 10) });
    const error = expectErrorEnvelope(await generateUploadUrl(huge, bearer(stack.seed.rootKey)), 413);
    expect(error.errors!.map((e) => e.location)).toContain("body");
  });
});

describe("generateUploadUrl: a key scoped to one project", () => {
  it("works for that project and is 403 for another project of the same workspace", async () => {
    const db = stack.deps.db;
    const secondProjectId = await createProject(db, stack.seed.workspaceId, "second");
    const { key } = await createRootKey(db, {
      workspaceId: stack.seed.workspaceId,
      name: "scoped",
      permissions: [`project.${stack.seed.projectId}.generate_upload_url`],
      now: Date.now(),
    });

    const ok = await generateUploadUrl(JSON.stringify({ projectId: stack.seed.projectId }), bearer(key));
    expect(ok.status).toBe(200);
    expect(ok.body.data.context.startsWith(`${stack.seed.projectId}/`)).toBe(true);

    const objectsBefore = await stack.storage.listKeys();
    const denied = expectErrorEnvelope(await generateUploadUrl(JSON.stringify({ projectId: secondProjectId }), bearer(key)), 403);
    expect(denied.detail).toContain(`project.${secondProjectId}.generate_upload_url`);
    expect(await stack.storage.listKeys()).toEqual(objectsBefore);

    // The seeded project.*.* key reaches both.
    expect((await generateUploadUrl(JSON.stringify({ projectId: secondProjectId }), bearer(stack.seed.rootKey))).status).toBe(200);
  });
});
