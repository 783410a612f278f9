import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcess, type ManagedProcess } from "./process.js";
import { writeSelfSignedCertificate } from "./tls.js";
import { freePort, waitFor } from "./wait.js";

/** Where Debian's `pebble` package puts its binaries. */
export const pebbleBinary = process.env.PEBBLE_BIN ?? "/usr/bin/pebble";
export const challtestsrvBinary = process.env.PEBBLE_CHALLTESTSRV_BIN ?? "/usr/bin/pebble-challtestsrv";

/** Whether Pebble is installed; when not, {@link startPebble} says how to install it. */
export function pebbleInstalled(): boolean {
  return existsSync(pebbleBinary) && existsSync(challtestsrvBinary);
}

/** A running Pebble ACME server plus its challenge test server (fake DNS with settable TXT records). */
export interface Pebble {
  /** ACME directory URL (HTTPS, trusted through {@link caPem}). */
  directoryUrl: string;
  /** Pebble's management API (HTTPS): `/roots/0`, `/intermediates/0`. */
  managementUrl: string;
  /** The self-signed certificate Pebble's HTTPS listeners use: the CA bundle an ACME client needs. */
  caPem: string;
  /** Its private key (lets a test put a fault-injecting proxy with the same identity in front). */
  tlsKeyPem: string;
  /** Port Pebble sends HTTP-01 validation requests to (on the address the fake DNS returns, 127.0.0.1). */
  httpPort: number;
  /** challtestsrv's management API: `POST /set-txt`, `/clear-txt`, `/add-a`, …. */
  challtestsrvUrl: string;
  /** UDP/TCP port of the fake DNS server Pebble resolves through. */
  dnsPort: number;
  pebble: ManagedProcess;
  challtestsrv: ManagedProcess;
  /** The root that issued certificates chain to (Pebble makes a new one at each start). */
  rootPem(): Promise<string>;
  /** Stops both processes and deletes the temp dir. */
  dispose(): Promise<void>;
}

/** Options for {@link startPebble}. */
export interface StartPebbleOptions {
  /** Port HTTP-01 validations go to: point it at frontline (or a responder). Defaults to a free port. */
  httpPort?: number;
  /** Extra env for pebble (e.g. `PEBBLE_AUTHZREUSE`). */
  env?: Record<string, string>;
  onLine?: (line: string) => void;
}

/** GET over HTTPS trusting `ca`; resolves with status and body. */
export function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, method: "GET" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * Starts `pebble-challtestsrv` (fake DNS answering 127.0.0.1 for every name, TXT records settable
 * over HTTP) and `pebble` resolving through it, with `PEBBLE_VA_NOSLEEP=1` and no random nonce
 * rejection. Resolves once Pebble's directory answers over HTTPS.
 */
export async function startPebble(options: StartPebbleOptions = {}): Promise<Pebble> {
  // Long because starts two processes with their config and teardown together so a failure cleans up both.
  if (!pebbleInstalled()) {
    throw new Error(
      `Pebble is not installed (${pebbleBinary}, ${challtestsrvBinary}): run 'apt-get install -y pebble' (Debian/Ubuntu) or set PEBBLE_BIN and PEBBLE_CHALLTESTSRV_BIN`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "ctrl-pebble-"));
  const [listenPort, managementPort, dnsPort, challtestPort, tlsPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const httpPort = options.httpPort ?? (await freePort());

  // Pebble's own HTTPS certificate, valid for 127.0.0.1 and localhost.
  await writeSelfSignedCertificate({
    certPath: join(dir, "cert.pem"),
    keyPath: join(dir, "key.pem"),
    days: 2,
    subject: "/CN=localhost",
    altNames: "DNS:localhost,IP:127.0.0.1",
  });
  const caPem = await readFile(join(dir, "cert.pem"), "utf8");
  const tlsKeyPem = await readFile(join(dir, "key.pem"), "utf8");
  await writeFile(
    join(dir, "pebble.json"),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listenPort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: join(dir, "cert.pem"),
        privateKey: join(dir, "key.pem"),
        httpPort,
        tlsPort,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );

  const challtestsrv = startProcess(
    "challtestsrv",
    challtestsrvBinary,
    [
      "-dns01",
      `127.0.0.1:${dnsPort}`,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-management",
      `127.0.0.1:${challtestPort}`,
      "-defaultIPv4",
      "127.0.0.1",
      "-defaultIPv6",
      "",
    ],
    { onLine: options.onLine },
  );
  const challtestsrvUrl = `http://127.0.0.1:${challtestPort}`;
  const pebble = startProcess("pebble", pebbleBinary, ["-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", ...options.env },
    onLine: options.onLine,
  });
  const directoryUrl = `https://127.0.0.1:${listenPort}/dir`;
  const managementUrl = `https://127.0.0.1:${managementPort}`;
  try {
    await waitFor(
      "challtestsrv management API",
      async () => (await fetch(`${challtestsrvUrl}/clear-txt`, { method: "POST", body: JSON.stringify({ host: "ready.test." }) })).ok,
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    await waitFor("pebble directory", async () => (await httpsGet(directoryUrl, caPem)).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 50,
    });
  } catch (err) {
    await Promise.allSettled([pebble.kill(), challtestsrv.kill()]);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`pebble did not start: ${(err as Error).message}\n${pebble.tail()}\n${challtestsrv.tail()}`);
  }
  return {
    directoryUrl,
    managementUrl,
    caPem,
    tlsKeyPem,
    httpPort,
    challtestsrvUrl,
    dnsPort,
    pebble,
    challtestsrv,
    async rootPem() {
      const res = await httpsGet(`${managementUrl}/roots/0`, caPem);
      if (res.status !== 200) throw new Error(`pebble /roots/0 answered ${res.status}`);
      return res.body;
    },
    async dispose() {
      await Promise.allSettled([pebble.stop(3_000), challtestsrv.stop(3_000)]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
