/**
 * TLS at the edge, end to end with nothing stubbed: the real control plane (MariaDB, restate-server,
 * s3rver, ctrl-api, the worker's DeployWorkflow and CertificateService), the krane agent running
 * `examples/hello` as a process, frontline as a real process (`PORT` = the port Pebble validates
 * HTTP-01 against, `HTTPS_PORT` with the certificate store), and Debian's Pebble as the CA.
 * Guarantees: a custom domain added to an environment with a deployed app gets a certificate through
 * frontline's challenge path; an HTTPS request to frontline for it, trusting only Pebble's root,
 * returns the deployed app; plain HTTP redirects; a second deploy takes the custom domain with it.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { formatArtifactRef, packDirectory, uploadArtifact } from "@ctrl/artifact";
import { startCertStack, type CertStack } from "@ctrl/ctrl-api/cert-testing";
import { stackTransport } from "@ctrl/ctrl-api/testing";
import { createEndpoint, type WorkerEndpoint } from "@ctrl/ctrl-worker/endpoint";
import { DeploymentService, DeploymentStatus } from "@ctrl/proto";
import { freePort, registerDeployment, startProcess, waitFor, type ManagedProcess } from "@ctrl/testing";
import { mkdtemp, rm } from "node:fs/promises";
import { stopRecordedInstances } from "@ctrl/krane/testing";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const appDir = join(repoRoot, "apps/frontline");
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

let cs: CertStack;
let worker: WorkerEndpoint;
let agent: ManagedProcess;
let agentDir: string;
let frontline: ManagedProcess;
let httpsPort: number;
let root: string;
let deployments: Client<typeof DeploymentService>;
let helloImage: string;

/** GET over HTTPS through frontline for `host` (SNI = host), trusting only Pebble's root. */
function viaHttps(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: "127.0.0.1", port: httpsPort, servername: host, headers: { host }, path: "/", ca: root, agent: false },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** GET over plain HTTP through frontline for `host`, not following redirects. */
function viaHttp(host: string, path: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: cs.challengePort, headers: { host }, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function deployHello(): Promise<string> {
  const { deploymentId } = await deployments.createDeployment({
    projectId: cs.stack.seed.projectId,
    branch: "main",
    environmentSlug: "production",
    source: { case: "dockerImage", value: helloImage },
  });
  await waitFor(
    `deployment ${deploymentId} ready`,
    async () => {
      const { deployment } = await deployments.getDeployment({ deploymentId });
      if (deployment!.status === DeploymentStatus.FAILED) throw new Error(`deploy failed: ${deployment!.errorMessage}`);
      return deployment!.status === DeploymentStatus.READY;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  return deploymentId;
}

beforeAll(async () => {
  // Pebble validates HTTP-01 on cs.challengePort: frontline's plain-HTTP port below.
  cs = await startCertStack({ worker: false, responder: false });
  root = await cs.pebble.rootPem();
  const out = join(await mkdtemp(join(tmpdir(), "ctrl-hello-")), "hello.tar.gz");
  const { sha256 } = await packDirectory(join(repoRoot, "examples/hello"), out);
  helloImage = formatArtifactRef(await uploadArtifact(cs.stack.storage, `artifacts/hello/${sha256}.tar.gz`, out));

  worker = createEndpoint(
    {
      db: cs.stack.database.db,
      storage: cs.stack.storage,
      logger: pino({ level: "silent" }),
      certificates: cs.certificates,
      domainVerification: cs.domainVerification,
      settings: { readinessPollMs: 200, readinessTimeoutMs: 60_000 },
    },
    { identityKeys: cs.stack.restate.identityKeys },
  );
  const workerPort = await worker.listen(0, "127.0.0.1");
  await registerDeployment(cs.stack.restate.adminUrl, `http://127.0.0.1:${workerPort}`);

  agentDir = await mkdtemp(join(tmpdir(), "ctrl-tls-krane-"));
  const portBase = 40_000 + (process.pid % 200) * 50;
  agent = startProcess("krane", process.execPath, ["--import", tsxLoader, join(repoRoot, "apps/krane/src/main.ts")], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      KRANE_CONTROL_PLANE_URL: cs.stack.apiUrl,
      KRANE_TOKEN: await cs.stack.agentToken("local", { ports: { low: portBase, high: portBase + 49 } }),
      KRANE_REGION: "local",
      KRANE_DATA_DIR: agentDir,
      KRANE_PORT_RANGE: `${portBase}-${portBase + 49}`,
      KRANE_HTTP_PORT: "0",
      KRANE_HEALTH_INTERVAL_MS: "50",
      KRANE_RESYNC_INTERVAL_MS: "2000",
      KRANE_STOP_GRACE_MS: "2000",
      S3_ENDPOINT: cs.stack.s3.endpoint,
      S3_ACCESS_KEY_ID: cs.stack.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: cs.stack.s3.secretAccessKey,
      LOG_LEVEL: "warn",
    },
  });

  httpsPort = await freePort();
  frontline = startProcess("frontline", process.execPath, ["--import", tsxLoader, join(appDir, "src/main.ts")], {
    cwd: appDir,
    env: {
      ...process.env,
      DATABASE_URL: cs.stack.database.url,
      PORT: String(cs.challengePort),
      HTTPS_PORT: String(httpsPort),
      VAULT_MASTER_KEYS: cs.vaultKeys,
      FRONTLINE_CERT_POLL_MS: "200",
      FRONTLINE_POLL_INTERVAL_MS: "100",
      CTRL_API_URL: cs.stack.apiUrl,
      CTRL_FRONTLINE_TOKEN: cs.stack.frontlineToken,
      FRONTLINE_UPSTREAM_PORT_RANGE: `${portBase}-${portBase + 49}`,
      LOG_LEVEL: "warn",
    },
  });
  await waitFor(
    "frontline to listen",
    async () => {
      if (frontline.child.exitCode !== null) throw new Error(`frontline exited: ${frontline.tail()}`);
      return (await fetch(`http://127.0.0.1:${cs.challengePort}/_ctrl/health`)).status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );

  deployments = createClient(DeploymentService, stackTransport(cs.stack));
}, 180_000);

afterAll(async () => {
  await frontline?.stop();
  await agent?.kill();
  // The agent's instances are detached process groups; end them through its own records.
  if (agentDir) await stopRecordedInstances(agentDir);
  if (agentDir) await rm(agentDir, { recursive: true, force: true });
  await worker?.close(500);
  await cs?.close();
}, 60_000);

it("issues a certificate for a custom domain through frontline and serves the deployed app over HTTPS; a new deploy takes the domain", async () => {
  const first = await deployHello();

  const added = await fetch(`${cs.stack.apiUrl}/v2/deploy.addCustomDomain`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${cs.stack.seed.rootKey}` },
    body: JSON.stringify({ projectId: cs.stack.seed.projectId, environmentSlug: "production", domain: "www.shop.example.test" }),
  });
  expect(added.status).toBe(201);
  // Its owner proves control first (the ownership TXT record); only then is it routed and issued.
  await cs.publishVerification("www.shop.example.test");
  await waitFor(
    "the custom domain's certificate",
    async () => {
      const c = await cs.stack.database.db.selectFrom("acme_challenges").select(["status", "error_message"]).executeTakeFirstOrThrow();
      if (c.status === "failed") throw new Error(`issuance failed: ${c.error_message}`);
      return c.status === "verified";
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );

  // Frontline's certificate store picks the new certificate up without a restart.
  const served = await waitFor(
    "the app over HTTPS",
    async () => {
      const r = await viaHttps("www.shop.example.test");
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 200 },
  );
  expect((JSON.parse(served.body) as { deploymentId: string }).deploymentId).toBe(first);
  expect(await viaHttp("www.shop.example.test", "/x")).toEqual({ status: 308, location: `https://www.shop.example.test:${httpsPort}/x` });

  const second = await deployHello();
  await waitFor(
    "the custom domain to follow the second deploy",
    async () => {
      const r = await viaHttps("www.shop.example.test");
      return r.status === 200 && (JSON.parse(r.body) as { deploymentId: string }).deploymentId === second;
    },
    { timeoutMs: 15_000, intervalMs: 200 },
  );
}, 240_000);
