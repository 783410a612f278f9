import { Vault } from "@ctrl/vault";
import type { WorkerConfig } from "../../config.js";
import { DAY_MS, type CertificateDeps } from "./deps.js";
import { createChalltestsrvProvider, createCloudflareProvider, noDnsProvider, type DnsProvider } from "./dns/index.js";
import { certificateRequestServiceName } from "../certificate-request-service/api.js";

/**
 * Builds CertificateService's deps from the worker config (called by main.ts), or undefined when
 * `VAULT_MASTER_KEYS` is unset (issuance disabled). `caPem` is the content of `ACME_CA_FILE`.
 */
export function certificateDepsFromConfig(config: WorkerConfig, caPem: string | undefined): CertificateDeps | undefined {
  if (!config.VAULT_MASTER_KEYS) return undefined;
  let dns: DnsProvider = noDnsProvider;
  if (config.DNS_PROVIDER === "challtestsrv") dns = createChalltestsrvProvider(config.CHALLTESTSRV_URL);
  if (config.DNS_PROVIDER === "cloudflare") {
    if (!config.CLOUDFLARE_API_TOKEN || !config.CLOUDFLARE_ZONE_ID)
      throw new Error("ctrl-worker: DNS_PROVIDER=cloudflare needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ZONE_ID");
    dns = createCloudflareProvider({ apiToken: config.CLOUDFLARE_API_TOKEN, zoneId: config.CLOUDFLARE_ZONE_ID });
  }
  return {
    vault: Vault.fromSpec(config.VAULT_MASTER_KEYS),
    directoryUrl: config.ACME_DIRECTORY_URL,
    email: config.ACME_EMAIL,
    caPem,
    dns,
    renewWindowMs: config.CERT_RENEW_WINDOW_DAYS * DAY_MS,
  };
}

/**
 * Starts today's renewal run through the Restate ingress (one-way send to the public
 * `CertificateRequestService.startRenewal`, which sends it on to the ingress-private
 * `CertificateService`). Safe to call from every replica on every start: the job ignores a day that
 * already ran, and the idempotency key collapses concurrent kick-offs.
 */
export async function kickOffRenewal(ingressUrl: string, now = Date.now()): Promise<void> {
  const day = Math.floor(now / DAY_MS);
  const res = await fetch(`${ingressUrl.replace(/\/$/, "")}/${certificateRequestServiceName}/startRenewal/send`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": `renew-${day}` },
    body: JSON.stringify({ day }),
  });
  if (!res.ok) throw new Error(`starting the renewal job failed: ${res.status} ${await res.text()}`);
}
