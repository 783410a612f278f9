/**
 * DomainService.ListCustomDomains / RemoveCustomDomain and their `/v2` endpoints through real
 * Connect and HTTP, real MariaDB and a real restate-server (no worker: verification, routing and
 * issuance are written as the worker would).
 *
 * Guarantees: a list shows each domain of the project (or environment) with its verification,
 * certificate and routing state; a remove deletes the claim, its challenge, and — for the verified
 * claim — its routes (frontline stops serving it) and its certificate, leaving no row behind, while
 * another workspace's pending claim of the same name is untouched; unknown or foreign names are
 * `not_found`, and each operation needs its permission.
 */
import { Code, createClient } from "@connectrpc/connect";
import { createRootKey, newId } from "@ctrl/db";
import { DomainService } from "@ctrl/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure } from "./fake-agent.js";
import { stackTransport, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
let domains: ReturnType<typeof createClient<typeof DomainService>>;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  stack.deps.apexDomain = "ctrl.example.net";
  domains = createClient(DomainService, stackTransport(stack, stack.seed.rootKey));
});
afterAll(async () => stack?.close());

const db = () => stack.database.db;
const project = () => ({ projectId: stack.seed.projectId, environmentSlug: "production" });

async function post(path: string, body: unknown, key = stack.seed.rootKey) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; error?: any } };
}

/** Verifies the claim, routes it to a deployment and stores its certificate, as the worker does. */
async function activate(domain: string) {
  const now = Date.now();
  const claim = await db().selectFrom("custom_domains").select(["id"]).where("domain", "=", domain).executeTakeFirstOrThrow();
  await db()
    .updateTable("custom_domains")
    .set({ verification_status: "verified", verified_domain: domain, verified_at: now })
    .where("id", "=", claim.id)
    .execute();
  await db().updateTable("acme_challenges").set({ status: "verified" }).where("domain_id", "=", claim.id).execute();
  await db()
    .insertInto("frontline_routes")
    .values({
      id: newId("route"),
      workspace_id: stack.seed.workspaceId,
      project_id: stack.seed.projectId,
      environment_id: stack.seed.environments.production,
      deployment_id: "d_somewhere",
      fully_qualified_domain_name: domain,
      sticky: "environment",
      created_at: now,
      updated_at: now,
    })
    .execute();
  await db()
    .insertInto("certificates")
    .values({
      id: newId("cert"),
      workspace_id: stack.seed.workspaceId,
      hostname: domain,
      certificate: "-----BEGIN CERTIFICATE-----",
      encrypted_private_key: "sealed",
      expires_at: now + 90 * 86_400_000,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return claim.id;
}

const leftovers = async (domain: string, claimId: string) => ({
  claims: (await db().selectFrom("custom_domains").select("id").where("id", "=", claimId).execute()).length,
  challenges: (await db().selectFrom("acme_challenges").select("id").where("domain_id", "=", claimId).execute()).length,
  routes: (await db().selectFrom("frontline_routes").select("id").where("fully_qualified_domain_name", "=", domain).execute()).length,
  certificates: (await db().selectFrom("certificates").select("id").where("hostname", "=", domain).execute()).length,
});

describe("ListCustomDomains", () => {
  it("lists the project's domains by name with verification, certificate and routing state", async () => {
    await domains.addCustomDomain({ ...project(), domain: "b-pending.example.org" });
    await domains.addCustomDomain({ ...project(), domain: "a-active.example.org" });
    await domains.addCustomDomain({ projectId: stack.seed.projectId, environmentSlug: "preview", domain: "c-preview.example.org" });
    await activate("a-active.example.org");

    const all = await domains.listCustomDomains({ projectId: stack.seed.projectId, environmentSlug: "" });
    expect(all.domains.map((d) => [d.domain, d.verificationStatus, d.challengeStatus, d.state, d.routed])).toEqual([
      ["a-active.example.org", "verified", "verified", "active", true],
      ["b-pending.example.org", "pending_verification", "waiting", "pending_verification", false],
      ["c-preview.example.org", "pending_verification", "waiting", "pending_verification", false],
    ]);
    expect(all.domains[0]!.certificateExpiresAt).toBeGreaterThan(BigInt(Date.now()));
    const production = await domains.listCustomDomains(project());
    expect(production.domains.map((d) => d.domain)).toEqual(["a-active.example.org", "b-pending.example.org"]);

    const http = await post("/v2/deploy.listCustomDomains", { projectId: stack.seed.projectId, environmentSlug: "preview" });
    expect(http.status).toBe(200);
    expect(http.body.data.domains).toEqual([
      expect.objectContaining({
        domain: "c-preview.example.org",
        state: "pending_verification",
        routed: false,
        verificationRecord: expect.any(Object),
      }),
    ]);
  });

  it("unknown project or environment is not_found; a key without read_custom_domain is refused", async () => {
    expect((await failure(domains.listCustomDomains({ projectId: "proj_missing", environmentSlug: "" }))).code).toBe(Code.NotFound);
    const env = await failure(domains.listCustomDomains({ projectId: stack.seed.projectId, environmentSlug: "nope" }));
    expect(env.code).toBe(Code.NotFound);
    expect(env.rawMessage).toBe(`environment nope not found in project ${stack.seed.projectId}`);
    const { key } = await createRootKey(db(), {
      workspaceId: stack.seed.workspaceId,
      name: "adder",
      permissions: [`project.${stack.seed.projectId}.add_custom_domain`],
      now: Date.now(),
    });
    const denied = await post("/v2/deploy.listCustomDomains", { projectId: stack.seed.projectId }, key);
    expect(denied.status).toBe(403);
  });
});

describe("RemoveCustomDomain", () => {
  it("removes a verified domain's claim, challenge, routes and certificate; nothing is left", async () => {
    const claimId = await activate((await domains.addCustomDomain({ ...project(), domain: "gone.example.org" })).domain!.domain);
    expect(await leftovers("gone.example.org", claimId)).toEqual({ claims: 1, challenges: 1, routes: 1, certificates: 1 });
    const res = await domains.removeCustomDomain({ domain: "gone.example.org" });
    expect(res).toMatchObject({ domain: "gone.example.org", routesRemoved: 1, certificatesRemoved: 1 });
    expect(await leftovers("gone.example.org", claimId)).toEqual({ claims: 0, challenges: 0, routes: 0, certificates: 0 });
    expect((await failure(domains.getCustomDomain({ domain: "gone.example.org" }))).code).toBe(Code.NotFound);
    // Gone means gone: a second remove is not_found; the name can be added again.
    const again = await failure(domains.removeCustomDomain({ domain: "gone.example.org" }));
    expect(again.code).toBe(Code.NotFound);
    expect(again.rawMessage).toBe("custom domain gone.example.org not found");
    await domains.addCustomDomain({ ...project(), domain: "gone.example.org" });
  });

  it("a pending claim removes only itself over /v2; foreign, empty and unauthorized requests are refused", async () => {
    const added = await domains.addCustomDomain({ ...project(), domain: "pending.example.org" });
    const http = await post("/v2/deploy.removeCustomDomain", { domain: "pending.example.org" });
    expect(http.status).toBe(200);
    expect(http.body.data).toEqual({ domain: "pending.example.org", routesRemoved: 0, certificatesRemoved: 0 });
    expect(await leftovers("pending.example.org", added.domain!.id)).toEqual({ claims: 0, challenges: 0, routes: 0, certificates: 0 });

    expect((await post("/v2/deploy.removeCustomDomain", {})).status).toBe(400);
    expect((await post("/v2/deploy.removeCustomDomain", { domain: "never.example.org" })).status).toBe(404);
    await domains.addCustomDomain({ ...project(), domain: "kept.example.org" });
    const { key } = await createRootKey(db(), {
      workspaceId: stack.seed.workspaceId,
      name: "reader",
      permissions: [`project.${stack.seed.projectId}.read_custom_domain`],
      now: Date.now(),
    });
    expect((await post("/v2/deploy.removeCustomDomain", { domain: "kept.example.org" }, key)).status).toBe(403);
    expect((await domains.getCustomDomain({ domain: "kept.example.org" })).domain?.domain).toBe("kept.example.org");
  });
});
