import { DnsProviderRejectedError, type DnsProvider } from "./provider.js";

/** Settings of the Cloudflare provider. */
export interface CloudflareOptions {
  /** API token with `Zone.DNS:Edit` on the zone. */
  apiToken: string;
  /** Zone id of the parent zone of every custom domain using DNS-01. */
  zoneId: string;
  /** Durable wait between publishing a record and asking the CA to check it (default 20 s). */
  propagationDelayMs?: number;
  /** API base, overridable for tests; defaults to Cloudflare's v4 API. */
  baseUrl?: string;
  fetch?: typeof fetch;
}

interface CloudflareEnvelope<T> {
  success: boolean;
  errors?: { code: number; message: string }[];
  result: T;
}

interface DnsRecord {
  id: string;
  name: string;
  content: string;
}

/**
 * Cloudflare DNS through its v4 HTTP API (`/zones/:zone/dns_records`). `setTxt` creates the TXT
 * record unless one with the same name and content exists (idempotent on retry); `clearTxt` deletes
 * the records with that name and content. TXT content is sent quoted, as Cloudflare recommends.
 */
export function createCloudflareProvider(options: CloudflareOptions): DnsProvider {
  const base = (options.baseUrl ?? "https://api.cloudflare.com/client/v4").replace(/\/$/, "");
  const fetchFn = options.fetch ?? fetch;
  const records = `${base}/zones/${encodeURIComponent(options.zoneId)}/dns_records`;
  const call = async <T>(method: string, url: string, body?: object): Promise<T> => {
    const res = await fetchFn(url, {
      method,
      headers: { authorization: `Bearer ${options.apiToken}`, "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    const payload = (await res.json().catch(() => undefined)) as CloudflareEnvelope<T> | undefined;
    if (res.ok && payload?.success) return payload.result;
    const reason = payload?.errors?.map((e) => `${e.code} ${e.message}`).join("; ") ?? `HTTP ${res.status}`;
    // 4xx other than 429 will not improve by retrying (token, zone or record problem).
    if (res.status >= 400 && res.status < 500 && res.status !== 429)
      throw new DnsProviderRejectedError(`cloudflare ${method} dns_records: ${reason}`);
    throw new Error(`cloudflare ${method} dns_records: ${reason}`);
  };
  const quoted = (value: string) => `"${value}"`;
  const find = (name: string, value: string) =>
    call<DnsRecord[]>("GET", `${records}?${new URLSearchParams({ type: "TXT", name, content: quoted(value) })}`);
  return {
    name: "cloudflare",
    // Cloudflare's edge usually serves a new record within seconds; the CA may query any of them.
    propagationDelayMs: options.propagationDelayMs ?? 20_000,
    async setTxt(name, value) {
      if ((await find(name, value)).length > 0) return;
      await call("POST", records, { type: "TXT", name, content: quoted(value), ttl: 60, comment: "ctrl ACME DNS-01 challenge" });
    },
    async clearTxt(name, value) {
      for (const record of await find(name, value)) {
        await call("DELETE", `${records}/${encodeURIComponent(record.id)}`);
      }
    },
  };
}
