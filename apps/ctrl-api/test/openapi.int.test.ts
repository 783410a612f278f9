/**
 * `GET /v2/openapi.json` against the real ctrl-api (MariaDB, restate-server with the worker, s3rver).
 * Guarantees: the document is OpenAPI 3.1 whose every schema is valid JSON Schema 2020-12 (each one
 * compiles), every `/v2` route the server registers is documented and nothing else is, operation ids
 * are unique, and real answers of every endpoint — successes and errors — match the documented
 * schema of their status, which must be a documented status.
 */
import { randomBytes } from "node:crypto";
import { createRootKey } from "@ctrl/db";
import { waitFor } from "@ctrl/testing";
import { Vault } from "@ctrl/vault";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registeredPublicRoutes } from "../src/http/v2/openapi.js";
import { buildServer } from "../src/server.js";
import { createWorkspace, startDeployStack } from "./fake-agent.js";
import type { TestStack } from "./harness.js";

let stack: TestStack;
let ws: Awaited<ReturnType<typeof createWorkspace>>;
let doc: any;

beforeAll(async () => {
  stack = await startDeployStack({ readinessTimeoutMs: 1_500, readinessPollMs: 100 });
  ws = await createWorkspace(stack.deps.db);
  const res = await fetch(`${stack.apiUrl}/v2/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  doc = await res.json();
}, 90_000);
afterAll(async () => stack?.close());

/** Every schema object of the document with where it is. */
function schemas(): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, any>))
    for (const [method, op] of Object.entries(item as Record<string, any>)) {
      const body = op.requestBody?.content?.["application/json"]?.schema;
      if (body) out.push([`${method} ${path} request`, body]);
      for (const [status, r] of Object.entries(op.responses as Record<string, any>)) {
        const schema = r.content?.["application/json"]?.schema;
        if (schema) out.push([`${method} ${path} ${status}`, schema]);
      }
    }
  return out;
}

/** Checks a real answer against the document: its status is documented and its body matches that status's schema. */
async function conforms(path: string, body: unknown, key: string | null = ws.rootKey): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const json = await res.json();
  const response = doc.paths[path]?.post?.responses?.[String(res.status)];
  expect(response, `${path} answered ${res.status}, which is not documented: ${JSON.stringify(json)}`).toBeDefined();
  const schema = z.fromJSONSchema(response.content["application/json"].schema);
  const checked = schema.safeParse(json);
  expect(checked.success, `${path} ${res.status}: ${JSON.stringify(json)}\n${checked.error?.message}`).toBe(true);
  return { status: res.status, body: json };
}

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 with valid JSON Schemas and unique operation ids", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.rootKey).toMatchObject({ type: "http", scheme: "bearer" });
    const ids: string[] = [];
    for (const item of Object.values(doc.paths as Record<string, any>))
      for (const [method, op] of Object.entries(item as Record<string, any>)) {
        expect(["get", "post"]).toContain(method);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const [status, r] of Object.entries(op.responses as Record<string, any>)) {
          expect(status).toMatch(/^[1-5]\d\d$/);
          expect(typeof r.description).toBe("string");
        }
        ids.push(op.operationId);
      }
    expect(new Set(ids).size).toBe(ids.length);
    const all = schemas();
    expect(all.length).toBeGreaterThan(20);
    for (const [where, schema] of all) expect(() => z.fromJSONSchema(schema as never), where).not.toThrow();
  });

  it("documents exactly the /v2 routes the server registers", async () => {
    const app = await buildServer(stack.deps);
    await app.ready();
    try {
      const registered = registeredPublicRoutes(app).sort();
      const documented = Object.entries(doc.paths as Record<string, any>)
        .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
        .sort();
      expect(registered).toEqual(documented);
    } finally {
      await app.close();
    }
  });
});

describe("real answers match the document", () => {
  it("deployments: upload URL, create, get (successes and errors)", async () => {
    expect((await conforms("/v2/deploy.generateUploadUrl", { projectId: ws.projectId })).status).toBe(200);
    expect((await conforms("/v2/deploy.generateUploadUrl", { projectId: "" })).status).toBe(400);
    expect((await conforms("/v2/deploy.generateUploadUrl", { projectId: ws.projectId }, "nope")).status).toBe(401);
    expect((await conforms("/v2/deploy.generateUploadUrl", { projectId: ws.projectId }, null)).status).toBe(400);
    const created = await conforms("/v2/deploy.createDeployment", {
      projectId: ws.projectId,
      branch: "main",
      environmentSlug: "preview",
      image: "ghcr.io/acme/api:1",
    });
    expect(created.status).toBe(201);
    expect(
      (await conforms("/v2/deploy.createDeployment", { projectId: ws.projectId, environmentSlug: "nope", image: "a/b:1" })).status,
    ).toBe(404);
    expect((await conforms("/v2/deploy.createDeployment", "{nope")).status).toBe(400);
    const got = await conforms("/v2/deploy.getDeployment", { deploymentId: created.body.data.deploymentId });
    expect(got.status).toBe(200);
    expect(got.body.data.steps?.length).toBeGreaterThan(0);
    expect((await conforms("/v2/deploy.getDeployment", { deploymentId: "d_missing" })).status).toBe(404);
  });

  it("custom domains and rollout control", async () => {
    const added = await conforms("/v2/deploy.addCustomDomain", {
      projectId: ws.projectId,
      environmentSlug: "production",
      domain: "api.openapi-test.example",
    });
    expect(added.status).toBe(201);
    expect(
      (
        await conforms("/v2/deploy.addCustomDomain", {
          projectId: ws.projectId,
          environmentSlug: "production",
          domain: "api.openapi-test.example",
        })
      ).status,
    ).toBe(409);
    expect((await conforms("/v2/deploy.getCustomDomain", { domain: "api.openapi-test.example" })).status).toBe(200);
    expect((await conforms("/v2/deploy.getCustomDomain", { domain: "unknown.openapi-test.example" })).status).toBe(404);
    const retried = await conforms("/v2/deploy.retryCustomDomain", { domain: "api.openapi-test.example" });
    expect([200, 412]).toContain(retried.status);
    const created = await conforms("/v2/deploy.createDeployment", {
      projectId: ws.projectId,
      branch: "main",
      environmentSlug: "preview",
      image: "a/b:2",
    });
    for (const op of ["pause", "resume", "cancel"]) {
      const answer = await conforms(`/v2/deploy.${op}Rollout`, { deploymentId: created.body.data.deploymentId });
      expect([200, 409, 412]).toContain(answer.status);
      expect((await conforms(`/v2/deploy.${op}Rollout`, { deploymentId: "d_missing" })).status).toBe(404);
    }
  });

  it("projects, environments and keys", async () => {
    const admin = (
      await createRootKey(stack.deps.db, {
        workspaceId: ws.workspaceId,
        name: "admin",
        permissions: ["workspace.*", "project.*.*"],
        now: Date.now(),
      })
    ).key;
    const slug = `docs-${randomBytes(4).toString("hex")}`;
    const created = await conforms("/v2/projects.createProject", { name: "Docs", slug }, admin);
    expect(created.status).toBe(201);
    const projectId = created.body.data.project.id;
    expect(created.body.data.environments.length).toBe(2);
    expect((await conforms("/v2/projects.createProject", { name: "Docs", slug }, admin)).status).toBe(409);
    // The default test key holds project.*.* only: no workspace.create_project.
    expect((await conforms("/v2/projects.createProject", { name: "Docs", slug: `${slug}-b` })).status).toBe(403);
    expect((await conforms("/v2/projects.getProject", { projectId }, admin)).status).toBe(200);
    expect((await conforms("/v2/projects.getProject", { projectId: "proj_missing" }, admin)).status).toBe(404);
    expect((await conforms("/v2/projects.listProjects", { pageSize: 1 }, admin)).status).toBe(200);
    expect((await conforms("/v2/projects.listProjects", { pageSize: 1.5 }, admin)).status).toBe(400);
    expect((await conforms("/v2/projects.updateProject", { projectId, name: "Docs 2" }, admin)).status).toBe(200);
    expect((await conforms("/v2/projects.updateProject", { projectId: "proj_missing", name: "x" }, admin)).status).toBe(404);

    const environment = await conforms("/v2/environments.createEnvironment", { projectId, slug: "staging", replicas: 2 }, admin);
    expect(environment.status).toBe(201);
    expect((await conforms("/v2/environments.createEnvironment", { projectId, slug: "staging" }, admin)).status).toBe(409);
    expect((await conforms("/v2/environments.listEnvironments", { projectId }, admin)).status).toBe(200);
    expect((await conforms("/v2/environments.listEnvironments", { projectId: 7 }, admin)).status).toBe(400);
    const update = { projectId, environmentSlug: "staging", memoryMib: 256, regions: ["local"] };
    expect((await conforms("/v2/environments.updateEnvironment", update, admin)).status).toBe(200);
    expect((await conforms("/v2/environments.updateEnvironment", { ...update, environmentSlug: "nope" }, admin)).status).toBe(404);
    expect((await conforms("/v2/environments.deleteEnvironment", { projectId, environmentSlug: "staging" }, admin)).status).toBe(200);
    expect((await conforms("/v2/environments.deleteEnvironment", { projectId, environmentSlug: "staging" }, admin)).status).toBe(404);
    expect((await conforms("/v2/projects.deleteProject", { projectId }, admin)).status).toBe(200);
    expect((await conforms("/v2/projects.deleteProject", { projectId }, admin)).status).toBe(404);

    const key = await conforms("/v2/keys.createRootKey", { name: "ci", permissions: ["project.*.read_deployment"] }, admin);
    expect(key.status).toBe(201);
    expect((await conforms("/v2/keys.createRootKey", { name: "ci", permissions: ["project.*.read_deployment"] })).status).toBe(403);
    expect((await conforms("/v2/keys.listRootKeys", {}, admin)).status).toBe(200);
    expect((await conforms("/v2/keys.listRootKeys", {})).status).toBe(403);
    expect((await conforms("/v2/keys.revokeRootKey", { keyId: key.body.data.key.id }, admin)).status).toBe(200);
    expect((await conforms("/v2/keys.revokeRootKey", { keyId: "key_missing" }, admin)).status).toBe(404);
  });

  it("variables", async () => {
    const environment = { projectId: ws.projectId, environmentSlug: "preview" };
    // Without VAULT_MASTER_KEYS a value cannot be encrypted.
    expect((await conforms("/v2/deploy.setVariables", { ...environment, variables: [{ key: "A", value: "1" }] })).status).toBe(412);
    stack.deps.vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
    try {
      const set = await conforms("/v2/deploy.setVariables", { ...environment, variables: [{ key: "A", value: "1" }] });
      expect(set.status).toBe(200);
      expect((await conforms("/v2/deploy.setVariables", { ...environment, variables: [{ key: "", value: "1" }] })).status).toBe(400);
      expect((await conforms("/v2/deploy.listVariables", environment)).status).toBe(200);
      const revealed = await conforms("/v2/deploy.listVariables", { ...environment, reveal: true });
      expect(revealed.body.data.variables).toEqual([expect.objectContaining({ key: "A", value: "1" })]);
      expect((await conforms("/v2/deploy.listVariables", { ...environment, environmentSlug: "nope" })).status).toBe(404);
      const unset = await conforms("/v2/deploy.unsetVariables", { ...environment, keys: ["A", "MISSING"] });
      expect(unset.body.data).toEqual({ removed: ["A"], missing: ["MISSING"] });
      expect((await conforms("/v2/deploy.unsetVariables", { ...environment, keys: "A" })).status).toBe(400);
    } finally {
      stack.deps.vault = undefined;
    }
  });

  it("deployment lifecycle: cancel, stop, start, redeploy, delete", async () => {
    const created = await conforms("/v2/deploy.createDeployment", {
      projectId: ws.projectId,
      branch: "main",
      environmentSlug: "preview",
      image: "ghcr.io/acme/api:3",
    });
    const deploymentId = created.body.data.deploymentId;
    const cancelled = await conforms("/v2/deploy.cancelDeployment", { deploymentId, reason: "openapi test" });
    expect(cancelled.status).toBe(200);
    expect((await conforms("/v2/deploy.cancelDeployment", { deploymentId: "d_missing" })).status).toBe(404);
    const redeployed = await conforms("/v2/deploy.redeploy", { deploymentId });
    expect(redeployed.status).toBe(201);
    // Nothing was ever routed in production: nothing to redeploy there.
    expect((await conforms("/v2/deploy.redeploy", { projectId: ws.projectId, environmentSlug: "production" })).status).toBe(412);
    // Neither deployment is ready: there is nothing to stop or start.
    expect((await conforms("/v2/deploy.stopDeployment", { deploymentId })).status).toBe(412);
    expect((await conforms("/v2/deploy.startDeployment", { deploymentId })).status).toBe(412);
    expect((await conforms("/v2/deploy.stopDeployment", { deploymentId: "d_missing" })).status).toBe(404);
    expect((await conforms("/v2/deploy.deleteDeployment", { deploymentId: redeployed.body.data.deploymentId })).status).toBe(412);
    await waitFor(
      `deployment ${deploymentId} to end cancelled`,
      async () =>
        (await stack.deps.db.selectFrom("deployments").select("status").where("id", "=", deploymentId).executeTakeFirst())?.status ===
        "cancelled",
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    expect((await conforms("/v2/deploy.deleteDeployment", { deploymentId })).status).toBe(200);
    expect((await conforms("/v2/deploy.deleteDeployment", { deploymentId: "" })).status).toBe(400);
  });

  it("custom domains: list and remove", async () => {
    const domain = "rm.openapi-test.example";
    expect((await conforms("/v2/deploy.addCustomDomain", { projectId: ws.projectId, environmentSlug: "production", domain })).status).toBe(
      201,
    );
    const listed = await conforms("/v2/deploy.listCustomDomains", { projectId: ws.projectId, environmentSlug: "production" });
    expect(listed.status).toBe(200);
    expect(listed.body.data.domains.map((d: { domain: string }) => d.domain)).toContain(domain);
    expect((await conforms("/v2/deploy.listCustomDomains", { projectId: ws.projectId, environmentSlug: "nope" })).status).toBe(404);
    expect((await conforms("/v2/deploy.removeCustomDomain", { domain })).status).toBe(200);
    expect((await conforms("/v2/deploy.removeCustomDomain", { domain })).status).toBe(404);
  });
});
