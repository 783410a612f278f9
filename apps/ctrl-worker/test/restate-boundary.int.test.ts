/**
 * Restate is not a public door (docs/architecture.md §7), against a real restate-server that signs its
 * requests and the worker's real endpoint:
 * - every internal service refuses an ingress call (HTTP 4xx, nothing runs), and the only
 *   ingress-public services are the ones ctrl-api calls — so a service added later is private too;
 * - the public ones check their input themselves (CertificateRequestService refuses unknown domains);
 * - the endpoint refuses a direct call without a valid signature (401), including discovery, and a
 *   restate-server holding another identity key cannot register it;
 * - main.ts refuses to start without RESTATE_IDENTITY_KEYS and says which variable to set.
 */
import "../src/polyfill.js";
import {
  createTestDatabase,
  registerDeployment,
  startRestate,
  startWorkerProcess,
  type RestateServer,
  type TestDatabase,
} from "@ctrl/testing";
import { generateKeyPairSync, sign } from "node:crypto";
import http2 from "node:http2";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, type WorkerEndpoint } from "../src/endpoint.js";

let database: TestDatabase;
let restate: RestateServer;
let endpoint: WorkerEndpoint;
let endpointUrl: string;

beforeAll(async () => {
  [database, restate] = await Promise.all([createTestDatabase(), startRestate()]);
  endpoint = createEndpoint({ db: database.db, logger: pino({ level: "silent" }) }, { identityKeys: restate.identityKeys });
  endpointUrl = `http://127.0.0.1:${await endpoint.listen(0, "127.0.0.1")}`;
  // Registration itself proves the positive case: discovery is a signed request the endpoint accepted.
  await registerDeployment(restate.adminUrl, endpointUrl);
}, 60_000);

afterAll(async () => {
  await endpoint?.close(500);
  await restate?.dispose();
  await database?.drop();
});

/** POSTs JSON to the ingress and returns the status and the parsed body. */
async function ingress(path: string, body: unknown): Promise<{ status: number; body: { code?: number; message?: string } }> {
  const res = await fetch(`${restate.ingressUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as { code?: number; message?: string }) : {} };
}

describe("the ingress", () => {
  const internalCalls: [string, unknown][] = [
    ["/VersioningService/attack/nextVersion", null],
    ["/VersioningService/local/commitTopology", { workspaceId: "ws_x", deploymentId: "d_x", desiredReplicas: 0, desiredStatus: "stopped" }],
    ["/VersioningService/local/commitSentinel/send", { sentinelId: "se_x", image: "evil:1" }],
    [
      "/RoutingService/proj_x/assignRoutes",
      {
        workspaceId: "ws_x",
        environmentId: "env_x",
        deploymentId: "d_x",
        routes: [{ fqdn: "bank.example.com", sticky: "live" }],
        setLive: true,
      },
    ],
    ["/RoutingService/proj_x/switchLive", { targetDeploymentId: "d_x", routeIds: [], isRolledBack: false }],
    ["/BuildService/build", { deploymentId: "d_x", projectId: "proj_x", contextKey: "proj_x/build_x.tar.gz" }],
    ["/CertificateService/bank.example.com/processChallenge", {}],
    ["/CertificateService/global/renewExpiring/send", { day: 99_999 }],
    ["/DomainVerificationService/dom_x/arm", {}],
    ["/SentinelService/se_x/deploy", { image: "evil:1" }],
    ["/SentinelRolloutNotifier/ro_x/notify", { url: "http://127.0.0.1:1/", event: {} }],
    ["/DomainVerificationService/dom_x/check", { generation: 0 }],
  ];
  it.each(internalCalls)("refuses the internal %s", async (path, body) => {
    const res = await ingress(path, body);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/not public/);
  });

  it("refused calls changed nothing (no version allocated, no route claimed)", async () => {
    expect(await database.db.selectFrom("region_versions").select("region").where("region", "in", ["attack", "local"]).execute()).toEqual(
      [],
    );
    expect(
      await database.db.selectFrom("frontline_routes").select("id").where("fully_qualified_domain_name", "=", "bank.example.com").execute(),
    ).toEqual([]);
  });

  it("is public only for what ctrl-api calls: any other service the worker serves is private", async () => {
    const res = await fetch(`${restate.adminUrl}/services`);
    const { services } = (await res.json()) as { services: { name: string; public: boolean }[] };
    const publicNames = services
      .filter((s) => s.public)
      .map((s) => s.name)
      .sort();
    expect(publicNames).toEqual([
      "CertificateRequestService",
      "DeployWorkflow",
      "DeploymentService",
      "SentinelRolloutService",
      "SupervisorService",
    ]);
    // The internal services are registered (so the refusals above are about privacy, not absence).
    expect(services.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        "VersioningService",
        "RoutingService",
        "BuildService",
        "CertificateService",
        "DomainVerificationService",
        "SentinelService",
        "SentinelRolloutNotifier",
      ]),
    );
  });

  it("reaches the public services, which check what they are asked", async () => {
    const unknownDomain = await ingress("/CertificateRequestService/issue", { domain: "bank.example.com" });
    expect(unknownDomain.status).toBe(404);
    expect(unknownDomain.body.message).toMatch(/^not_found: custom domain bank\.example\.com not found/);
    // A far-future day would make the daily renewal job skip every day until then.
    const farDay = await ingress("/CertificateRequestService/startRenewal", { day: Math.floor(Date.now() / 86_400_000) + 1000 });
    expect(farDay.status).toBe(400);
    expect(farDay.body.message).toMatch(/^invalid_argument: day must be today's day number/);
    const unknownClaim = await ingress("/CertificateRequestService/verifyDomain", { claimId: "dom_unknown" });
    expect(unknownClaim.status).toBe(404);
    expect(unknownClaim.body.message).toMatch(/^not_found: custom domain dom_unknown not found/);
    const badClaim = await ingress("/CertificateRequestService/verifyDomain", { claimId: "../etc" });
    expect(badClaim.status).toBe(400);
    const rollback = await ingress("/DeploymentService/proj_x/rollback", { sourceDeploymentId: "d_a", targetDeploymentId: "d_b" });
    expect(rollback.status).toBe(404);
    expect(rollback.body.message).toMatch(/^not_found: source deployment d_a not found/);
  });
});

/** One HTTP/2 request straight to the worker endpoint, as anything on the network could send it. */
function direct(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(endpointUrl);
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/vnd.restate.invocation.v5", ...headers });
    req.on("response", (h) => {
      resolve(Number(h[":status"]));
      req.close();
      session.close();
    });
    req.on("error", reject);
    req.end();
  });
}

/** A JWT in Restate's v1 request-identity shape, signed by a key restate-server does not hold. */
function forgedJwt(path: string): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: "EdDSA", typ: "JWT" })}.${b64({ aud: path, nbf: now - 60, exp: now + 60 })}`;
  return `${unsigned}.${sign(null, Buffer.from(unsigned), privateKey).toString("base64url")}`;
}

describe("the worker endpoint", () => {
  const invoke = "/invoke/VersioningService/nextVersion";

  it("refuses unsigned invocations and discovery with 401", async () => {
    expect(await direct(invoke, {})).toBe(401);
    expect(await direct("/discover", {})).toBe(401);
    expect(await direct(invoke, { "x-restate-signature-scheme": "unsigned" })).toBe(401);
  });

  it("refuses an invocation signed with another key", async () => {
    expect(await direct(invoke, { "x-restate-signature-scheme": "v1", "x-restate-jwt-v1": forgedJwt(invoke) })).toBe(401);
    expect(await database.db.selectFrom("region_versions").select("region").execute()).toEqual([]);
  });

  it("cannot be registered by a restate-server with another identity key", async () => {
    const other = await startRestate();
    try {
      expect(other.identityKeys).not.toEqual(restate.identityKeys);
      await expect(registerDeployment(other.adminUrl, endpointUrl)).rejects.toThrow(/401|Unauthorized/);
    } finally {
      await other.dispose();
    }
  });

  it("serves the /health probe without a signature (it runs nothing)", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const session = http2.connect(endpointUrl);
      session.on("error", reject);
      const req = session.request({ ":method": "GET", ":path": "/health" });
      req.on("response", (h) => (resolve(Number(h[":status"])), req.close(), session.close()));
      req.end();
    });
    expect(status).toBe(200);
  });
});

describe("ctrl-worker main.ts", () => {
  it("refuses to start without request-identity keys and names the variable", async () => {
    const worker = await startWorkerProcess({
      entry: fileURLToPath(new URL("../src/main.ts", import.meta.url)),
      name: "ctrl-worker without identity keys",
      env: {
        DATABASE_URL: database.url,
        RESTATE_ADMIN_URL: restate.adminUrl,
        RESTATE_IDENTITY_KEYS: "",
        S3_ACCESS_KEY_ID: "S3RVER",
        S3_SECRET_ACCESS_KEY: "S3RVER",
        LOG_LEVEL: "warn",
      },
    });
    try {
      const exited = await worker.process.exited;
      expect(exited.code).not.toBe(0);
      expect(worker.lines().join("\n")).toMatch(/RESTATE_IDENTITY_KEYS: is empty: set it to the request-identity public key/);
    } finally {
      // Only does something if the check regressed and the worker is up.
      await worker.stop(1_000);
    }
  }, 60_000);

  it("with the explicit opt-out it starts, and says at start that it accepts unsigned invocations", async () => {
    const worker = await startWorkerProcess({
      entry: fileURLToPath(new URL("../src/main.ts", import.meta.url)),
      name: "ctrl-worker accepting unsigned",
      env: {
        DATABASE_URL: database.url,
        RESTATE_REGISTER: "false",
        RESTATE_IDENTITY_KEYS: "insecure-accept-unsigned",
        S3_ACCESS_KEY_ID: "S3RVER",
        S3_SECRET_ACCESS_KEY: "S3RVER",
        LOG_LEVEL: "warn",
      },
    });
    try {
      const line = JSON.parse(await worker.waitForLine(/accepts unsigned invocations/, 30_000)) as { level: number; variable: string };
      expect(line).toMatchObject({ level: 40, variable: "RESTATE_IDENTITY_KEYS" });
      await worker.waitHealthy();
    } finally {
      await worker.stop(5_000);
    }
  }, 60_000);
});
