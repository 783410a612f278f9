import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { request } from "node:https";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { writeSelfSignedCertificate } from "@ctrl/testing";
import type { StepSpec } from "./runner.js";

/** Where Debian's `pebble` package installs its binaries. */
const pebbleBin = "/usr/bin/pebble";
const challtestsrvBin = "/usr/bin/pebble-challtestsrv";

/** Fixed local ports of the ACME test CA (like frontline's 8000). */
export const acmePorts = { pebble: 14000, pebbleManagement: 15000, challtestsrv: 8055, dns: 8053, frontlineHttps: 8443 };

/** `auto`: Pebble when installed; `pebble`: the same, said louder when missing; `off`: no ACME. */
export type AcmeChoice = "auto" | "pebble" | "off";

/** What the ACME part of the stack adds: its steps and env for the worker and frontline. */
export interface LocalAcme {
  /** Whether Pebble runs (installed and not turned off). */
  enabled: boolean;
  steps: StepSpec[];
  /** Extra env of ctrl-worker (empty when disabled: issuance stays off, domains stay pending). */
  workerEnv: Record<string, string>;
  /** Extra env of frontline (HTTPS with the certificate store). */
  frontlineEnv: Record<string, string>;
  /** Steps the worker must start after. */
  workerAfter: string[];
}

/**
 * The local ACME CA: Debian's Pebble plus `pebble-challtestsrv` as its DNS (every name resolves to
 * 127.0.0.1, TXT records settable for DNS-01), validating HTTP-01 against frontline's port. Vault
 * master keys for the stack are generated once and kept in `<dataDir>/vault.keys`.
 */
export function localAcme(choice: AcmeChoice, dataDir: string, frontlinePort: number): LocalAcme {
  const installed = existsSync(pebbleBin) && existsSync(challtestsrvBin);
  const reason =
    choice === "off"
      ? "CTRL_DEV_ACME=off"
      : installed
        ? undefined
        : "Pebble is not installed: run `apt-get install -y pebble` to issue certificates for custom domains locally";
  const dir = join(dataDir, "pebble");
  const enabled = reason === undefined;
  const skip = (): true | string => (enabled ? true : reason!);
  if (!enabled)
    return {
      enabled,
      steps: [{ kind: "task", name: "pebble", enabled: skip, run: async () => undefined }],
      workerEnv: {},
      frontlineEnv: {},
      workerAfter: [],
    };

  const vaultKeys = vaultKeysOf(dataDir);
  const directory = `https://127.0.0.1:${acmePorts.pebble}/dir`;
  return {
    enabled,
    steps: [challtestsrvSpec(), pebbleSpec(dir, directory, frontlinePort)],
    workerEnv: {
      VAULT_MASTER_KEYS: vaultKeys,
      ACME_DIRECTORY_URL: directory,
      ACME_CA_FILE: join(dir, "cert.pem"),
      DNS_PROVIDER: "challtestsrv",
      CHALLTESTSRV_URL: `http://127.0.0.1:${acmePorts.challtestsrv}`,
      // Custom-domain ownership records are looked up on the same fake DNS: publish one with
      // POST :8055/set-txt {"host":"_ctrl-challenge.<domain>.","value":"<the value getCustomDomain shows>"}.
      DNS_RESOLVER: `127.0.0.1:${acmePorts.dns}`,
    },
    frontlineEnv: { VAULT_MASTER_KEYS: vaultKeys, HTTPS_PORT: String(acmePorts.frontlineHttps) },
    workerAfter: ["pebble"],
  };
}

/** `pebble-challtestsrv`: Pebble's DNS (every name is 127.0.0.1, TXT records settable over HTTP). */
function challtestsrvSpec(): StepSpec {
  return {
    kind: "service",
    name: "challtestsrv",
    command: challtestsrvBin,
    args: [
      "-dns01",
      `127.0.0.1:${acmePorts.dns}`,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-management",
      `127.0.0.1:${acmePorts.challtestsrv}`,
      "-defaultIPv4",
      "127.0.0.1",
      "-defaultIPv6",
      "",
    ],
    ports: { management: acmePorts.challtestsrv, dns: acmePorts.dns },
    ready: { tcp: { host: "127.0.0.1", port: acmePorts.challtestsrv } },
    urls: { challtestsrv: `http://127.0.0.1:${acmePorts.challtestsrv}  (fake DNS on :${acmePorts.dns}; POST /set-txt, /add-a)` },
  };
}

/** Pebble itself, resolving through challtestsrv and validating HTTP-01 against frontline's port. */
function pebbleSpec(dir: string, directory: string, frontlinePort: number): StepSpec {
  return {
    kind: "service",
    name: "pebble",
    after: ["challtestsrv"],
    command: pebbleBin,
    args: ["-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${acmePorts.dns}`],
    env: { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
    ports: { acme: acmePorts.pebble, management: acmePorts.pebbleManagement },
    prepare: (log) => preparePebble(dir, frontlinePort, log),
    ready: { probe: `Pebble's directory ${directory}`, check: () => answers(directory, readFileSync(join(dir, "cert.pem"), "utf8")) },
    urls: { pebble: `${directory}  (root CA: https://127.0.0.1:${acmePorts.pebbleManagement}/roots/0 — a new one each start)` },
  };
}

/** Makes Pebble's TLS certificate once and writes its config into `dir`. */
async function preparePebble(dir: string, frontlinePort: number, log: (line: string) => void): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, "cert.pem"))) {
    await writeSelfSignedCertificate({
      certPath: join(dir, "cert.pem"),
      keyPath: join(dir, "key.pem"),
      days: 3650,
      subject: "/CN=localhost",
      altNames: "DNS:localhost,IP:127.0.0.1",
    });
    log(`made Pebble's TLS certificate ${join(dir, "cert.pem")}`);
  }
  await writeFile(
    join(dir, "pebble.json"),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePorts.pebble}`,
        managementListenAddress: `127.0.0.1:${acmePorts.pebbleManagement}`,
        certificate: join(dir, "cert.pem"),
        privateKey: join(dir, "key.pem"),
        httpPort: frontlinePort,
        tlsPort: 5001,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
}

/** The stack's vault master keys: made once (32 random bytes) and kept in `<dataDir>/vault.keys`. */
export function vaultKeysOf(dataDir: string): string {
  const file = join(dataDir, "vault.keys");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const keys = `k1:${randomBytes(32).toString("base64")}`;
  writeFileSync(file, `${keys}\n`, { mode: 0o600 });
  return keys;
}

/** Whether an HTTPS GET trusting `ca` answers 200. */
function answers(url: string, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.end();
  });
}
