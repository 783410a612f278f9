import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateRestateIdentity, restateIdentityFromPem } from "@ctrl/testing";
import type { Ports } from "../config.js";

/**
 * The local stack's Restate request identity: an ed25519 key made on the first run and kept in
 * `<dataDir>/restate-identity.pem` (0600), so the worker's RESTATE_IDENTITY_KEYS stays valid.
 */
export function restateIdentityOf(dataDir: string): { file: string; publicKey: string } {
  const file = join(dataDir, "restate-identity.pem");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, generateRestateIdentity().privateKeyPem, { mode: 0o600 });
  }
  return { file, publicKey: restateIdentityFromPem(readFileSync(file, "utf8")).publicKey };
}

/**
 * restate-server's config: same shape as the test harness's (packages/testing/src/restate.ts).
 * Every listener binds to 127.0.0.1: ingress, admin and the node port are private surfaces.
 */
export function restateToml(baseDir: string, ports: Ports, identityKeyFile: string): string {
  return [
    `base-dir = "${baseDir}"`,
    `node-name = "ctrl-dev"`,
    `disable-telemetry = true`,
    `default-num-partitions = 4`,
    `listen-mode = "tcp"`,
    `bind-address = "127.0.0.1:${ports.restateNode}"`,
    `advertised-address = "http://127.0.0.1:${ports.restateNode}"`,
    // Signs requests to service endpoints; the worker verifies them (RESTATE_IDENTITY_KEYS).
    `request-identity-private-key-pem-file = "${identityKeyFile}"`,
    `[admin]`,
    `bind-address = "127.0.0.1:${ports.restateAdmin}"`,
    `[ingress]`,
    `bind-address = "127.0.0.1:${ports.restateIngress}"`,
    "",
  ].join("\n");
}
