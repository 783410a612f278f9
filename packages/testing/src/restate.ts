import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcess, type ManagedProcess } from "./process.js";
import { generateRestateIdentity } from "./restate-identity.js";
import { freePort, waitForHttpOk, waitForPortFree } from "./wait.js";

const require = createRequire(import.meta.url);

/** The restate-server binary shipped in the npm package's platform dependency. */
export function restateServerBinary(): string {
  const pkg = require.resolve("@restatedev/restate-server/package.json");
  const fromServer = createRequire(pkg);
  return fromServer.resolve(`@restatedev/restate-server-${process.platform}-${process.arch}/bin/restate-server`);
}

/** A running restate-server on free ports with its data in a temp dir. */
export interface RestateServer {
  adminUrl: string;
  ingressUrl: string;
  baseDir: string;
  /**
   * The public keys (`publickeyv1_…`) this server signs its requests to service endpoints with:
   * pass them to the worker (`identityKeys` of createEndpoint, `RESTATE_IDENTITY_KEYS` of main.ts).
   * Empty with `signRequests: false`.
   */
  identityKeys: string[];
  process: ManagedProcess;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** Starts it again on the same ports, optionally with an empty data dir (all state lost). */
  restart(options?: { wipe?: boolean }): Promise<void>;
  /** Stops it and deletes its data. */
  dispose(): Promise<void>;
}

/** Options for {@link startRestate}. */
export interface StartRestateOptions {
  baseDir?: string;
  adminPort?: number;
  ingressPort?: number;
  /** Extra env (e.g. RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS). */
  env?: Record<string, string>;
  onLine?: (line: string) => void;
  /** Sign requests to service endpoints with a fresh request-identity key (default true), as production does. */
  signRequests?: boolean;
}

/** Starts restate-server and resolves once its admin and ingress health endpoints answer 200. */
export async function startRestate(options: StartRestateOptions = {}): Promise<RestateServer> {
  const baseDir = options.baseDir ?? (await mkdtemp(join(tmpdir(), "ctrl-restate-")));
  const adminPort = options.adminPort ?? (await freePort());
  const ingressPort = options.ingressPort ?? (await freePort());
  const nodePort = await freePort();
  const configFile = join(baseDir, "restate.toml");
  // One identity per server, kept across restarts (a restarted server signs with the same key).
  const identity = options.signRequests === false ? undefined : generateRestateIdentity();
  const identityFile = join(baseDir, "request-identity.pem");
  if (identity) await writeFile(identityFile, identity.privateKeyPem, { mode: 0o600 });
  const launch = async () => {
    await writeFile(
      configFile,
      [
        `base-dir = "${join(baseDir, "data")}"`,
        `node-name = "ctrl"`,
        `disable-telemetry = true`,
        `default-num-partitions = 4`,
        `listen-mode = "tcp"`,
        `bind-address = "127.0.0.1:${nodePort}"`,
        `advertised-address = "http://127.0.0.1:${nodePort}"`,
        ...(identity ? [`request-identity-private-key-pem-file = "${identityFile}"`] : []),
        `[admin]`,
        `bind-address = "127.0.0.1:${adminPort}"`,
        `[ingress]`,
        `bind-address = "127.0.0.1:${ingressPort}"`,
        "",
      ].join("\n"),
    );
    const proc = startProcess("restate", restateServerBinary(), ["--config-file", configFile, "--no-logo"], {
      env: { ...process.env, RUST_LOG: process.env.RESTATE_LOG ?? "warn", ...options.env },
      onLine: options.onLine,
    });
    try {
      await waitForHttpOk(`http://127.0.0.1:${adminPort}/health`, 30_000);
      await waitForHttpOk(`http://127.0.0.1:${ingressPort}/restate/health`, 30_000);
    } catch (err) {
      await proc.kill();
      throw new Error(`restate-server did not become healthy: ${(err as Error).message}\n${proc.tail()}`);
    }
    return proc;
  };
  const server: RestateServer = {
    adminUrl: `http://127.0.0.1:${adminPort}`,
    ingressUrl: `http://127.0.0.1:${ingressPort}`,
    baseDir,
    identityKeys: identity ? [identity.publicKey] : [],
    process: await launch(),
    async stop() {
      await server.process.stop(10_000);
      await Promise.all([waitForPortFree(adminPort), waitForPortFree(ingressPort)]);
    },
    async restart({ wipe = false } = {}) {
      await server.stop();
      if (wipe) await rm(join(baseDir, "data"), { recursive: true, force: true });
      server.process = await launch();
    },
    async dispose() {
      await server.process.stop(5_000);
      await rm(baseDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Registers (or re-registers, `force`) a service endpoint with the admin API. */
export async function registerDeployment(adminUrl: string, endpointUrl: string): Promise<void> {
  const res = await fetch(`${adminUrl}/deployments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ uri: endpointUrl, force: true }),
  });
  if (!res.ok) throw new Error(`registering ${endpointUrl} failed: ${res.status} ${await res.text()}`);
}

/**
 * Test-only: makes ingress-private services callable through the ingress (admin API
 * `PATCH /services/<name> {"public": true}`), so a test can drive an internal service such as
 * VersioningService directly. Production never does this; a new registration of the endpoint
 * resets every service to what the endpoint declares (private), so call it again after one.
 */
export async function exposeServicesForTest(adminUrl: string, services: string[]): Promise<void> {
  for (const service of services) {
    const res = await fetch(`${adminUrl}/services/${encodeURIComponent(service)}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ public: true }),
    });
    if (!res.ok) throw new Error(`making ${service} public failed: ${res.status} ${await res.text()}`);
  }
}
