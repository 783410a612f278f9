/**
 * The certificate test stack: {@link startTestStack} (MariaDB, restate-server, s3rver, ctrl-api)
 * plus a real Pebble ACME server with its fake DNS, a worker endpoint configured for Pebble, and the
 * HTTP listener Pebble validates HTTP-01 challenges against (it asks ctrl-api's
 * AcmeService.VerifyCertificate, exactly as frontline does).
 */
import { createClient } from "@connectrpc/connect";
import { createEndpoint, type WorkerEndpoint } from "@ctrl/ctrl-worker/endpoint";
import type { CertificateDeps } from "@ctrl/ctrl-worker/certificates";
import type { DomainVerificationDeps } from "@ctrl/ctrl-worker/domain-verification";
import { verificationRecordName } from "@ctrl/db";
import { AcmeService } from "@ctrl/proto";
import { freePort, registerDeployment, startPebble, type Pebble } from "@ctrl/testing";
import { Vault } from "@ctrl/vault";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { pino } from "pino";
import { stackTransport, startTestStack, type TestStack } from "./harness.js";

/** Everything a certificate test talks to. */
export interface CertStack {
  stack: TestStack;
  pebble: Pebble;
  /** The vault the worker encrypts with (tests decrypt to prove what is stored). */
  vault: Vault;
  vaultKeys: string;
  /** Worker certificate settings (pass to a child worker as env with {@link workerEnv}). */
  certificates: CertificateDeps;
  /** The port Pebble sends HTTP-01 validations to. */
  challengePort: number;
  /** The in-process worker endpoint, when started. */
  worker?: { endpoint: WorkerEndpoint; url: string };
  /** Starts an in-process worker with certificates configured and registers it. */
  startWorker(): Promise<{ endpoint: WorkerEndpoint; url: string }>;
  /** Env for a worker child process (`apps/ctrl-worker/src/main.ts`) against this stack. */
  workerEnv(caFile: string): Record<string, string>;
  /** Worker settings of DomainVerificationService: Pebble's fake DNS, rechecks every 100-500 ms. */
  domainVerification: DomainVerificationDeps;
  /**
   * Publishes a claim's ownership record on the fake DNS, as its owner would: the value of the
   * claim of `domain` (the only one, or the one of `workspaceId`), unless `value` is given.
   */
  publishVerification(domain: string, options?: { workspaceId?: string; value?: string }): Promise<void>;
  /** Removes every TXT value at the ownership record name of `domain`. */
  clearVerification(domain: string): Promise<void>;
  /** Points a hostname of the fake DNS at another address (e.g. 127.0.0.2: unreachable), or back. */
  setAddress(host: string, ip: string | null): Promise<void>;
  close(): Promise<void>;
}

/** Options for {@link startCertStack}. */
export interface CertStackOptions {
  /** Start the in-process worker (default true). */
  worker?: boolean;
  /**
   * Serve HTTP-01 challenges on the challenge port with a minimal responder (default true). Pass
   * false when the test puts frontline on {@link CertStack.challengePort} instead.
   */
  responder?: boolean;
  renewWindowMs?: number;
  /** Returns the ACME directory URL the worker uses (e.g. a fault-injecting proxy in front of Pebble). */
  directoryUrl?: (pebble: Pebble) => Promise<string>;
  /** Awaited by the responder before it answers a challenge (lets a test hold issuance mid-validation). */
  beforeChallengeAnswer?: (host: string, token: string) => Promise<void>;
}

/** A minimal HTTP-01 responder: `/.well-known/acme-challenge/<token>` → VerifyCertificate. */
function startResponder(stack: TestStack, port: number, gate?: CertStackOptions["beforeChallengeAnswer"]): Promise<Server> {
  const transport = stackTransport(stack);
  const acme = createClient(AcmeService, transport);
  const server = createServer((req, res) => {
    const m = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? "");
    const host = (req.headers.host ?? "").split(":")[0]!;
    if (!m) return res.writeHead(404).end();
    Promise.resolve(gate?.(host, m[1]!))
      .then(() => acme.verifyCertificate({ domain: host, token: m[1]! }))
      .then(
        (r) => res.writeHead(200, { "content-type": "application/octet-stream" }).end(r.authorization),
        () => res.writeHead(404).end(),
      );
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

/** Starts the stack; everything is private to the caller. */
export async function startCertStack(options: CertStackOptions = {}): Promise<CertStack> {
  const challengePort = await freePort();
  const [stack, pebble] = await Promise.all([
    startTestStack({ worker: false }),
    startPebble({ httpPort: challengePort, env: { PEBBLE_AUTHZREUSE: "0" } }),
  ]);
  stack.deps.apexDomain = "ctrl.example.net";
  const vaultKeys = `k1:${randomBytes(32).toString("base64")}`;
  const vault = Vault.fromSpec(vaultKeys);
  const { createChalltestsrvProvider } = await import("@ctrl/ctrl-worker/certificates");
  const certificates: CertificateDeps = {
    vault,
    directoryUrl: options.directoryUrl ? await options.directoryUrl(pebble) : pebble.directoryUrl,
    email: "certs@example.test",
    caPem: pebble.caPem,
    dns: createChalltestsrvProvider(pebble.challtestsrvUrl),
    renewWindowMs: options.renewWindowMs,
  };
  const domainVerification: DomainVerificationDeps = {
    resolvers: [`127.0.0.1:${pebble.dnsPort}`],
    lookupTimeoutMs: 2_000,
    windowMs: 60_000,
    firstRecheckMs: 100,
    maxRecheckMs: 500,
  };
  const challtestsrv = async (path: string, body: object) => {
    const res = await fetch(`${pebble.challtestsrvUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`challtestsrv ${path} failed: ${res.status}`);
  };
  const responder = (options.responder ?? true) ? await startResponder(stack, challengePort, options.beforeChallengeAnswer) : undefined;
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

  const certStack: CertStack = {
    stack,
    pebble,
    vault,
    vaultKeys,
    certificates,
    domainVerification,
    challengePort,
    async startWorker() {
      const endpoint = createEndpoint(
        { db: stack.database.db, storage: stack.storage, logger, certificates, domainVerification },
        { identityKeys: stack.restate.identityKeys },
      );
      const port = await endpoint.listen(0, "127.0.0.1");
      const url = `http://127.0.0.1:${port}`;
      await registerDeployment(stack.restate.adminUrl, url);
      certStack.worker = { endpoint, url };
      return certStack.worker;
    },
    workerEnv(caFile) {
      return {
        DATABASE_URL: stack.database.url,
        RESTATE_ADMIN_URL: stack.restate.adminUrl,
        RESTATE_INGRESS_URL: stack.restate.ingressUrl,
        RESTATE_IDENTITY_KEYS: stack.restate.identityKeys.join(","),
        S3_ENDPOINT: stack.s3.endpoint,
        S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
        VAULT_MASTER_KEYS: vaultKeys,
        ACME_DIRECTORY_URL: certificates.directoryUrl,
        ACME_EMAIL: "certs@example.test",
        ACME_CA_FILE: caFile,
        DNS_PROVIDER: "challtestsrv",
        CHALLTESTSRV_URL: pebble.challtestsrvUrl,
        DNS_RESOLVER: domainVerification.resolvers!.join(","),
        DNS_LOOKUP_TIMEOUT_MS: String(domainVerification.lookupTimeoutMs),
        DOMAIN_VERIFICATION_WINDOW_MS: String(domainVerification.windowMs),
        DOMAIN_VERIFICATION_FIRST_RECHECK_MS: String(domainVerification.firstRecheckMs),
        DOMAIN_VERIFICATION_MAX_RECHECK_MS: String(domainVerification.maxRecheckMs),
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "info",
      };
    },
    async publishVerification(domain, { workspaceId, value } = {}) {
      let query = stack.database.db.selectFrom("custom_domains").select("verification_value").where("domain", "=", domain);
      if (workspaceId) query = query.where("workspace_id", "=", workspaceId);
      const rows = value === undefined ? await query.execute() : [{ verification_value: value }];
      if (rows.length !== 1) throw new Error(`publishVerification(${domain}): ${rows.length} claims; pass workspaceId`);
      await challtestsrv("/set-txt", { host: `${verificationRecordName(domain)}.`, value: rows[0]!.verification_value });
    },
    async clearVerification(domain) {
      await challtestsrv("/clear-txt", { host: `${verificationRecordName(domain)}.` });
    },
    async setAddress(host, ip) {
      const res = ip
        ? await fetch(`${pebble.challtestsrvUrl}/add-a`, { method: "POST", body: JSON.stringify({ host: `${host}.`, addresses: [ip] }) })
        : await fetch(`${pebble.challtestsrvUrl}/clear-a`, { method: "POST", body: JSON.stringify({ host: `${host}.` }) });
      if (!res.ok) throw new Error(`challtestsrv ${ip ? "add-a" : "clear-a"} failed: ${res.status}`);
    },
    async close() {
      responder?.close();
      await certStack.worker?.endpoint.close(500);
      await Promise.allSettled([pebble.dispose()]);
      await stack.close();
    },
  };
  if (options.worker ?? true) await certStack.startWorker();
  return certStack;
}
