/**
 * @ctrl/certstore: the edge's certificate store. Loads issued certificates from MySQL, decrypts their
 * private keys with the vault (in memory only), picks one by SNI (exact name, then `*.parent`), and
 * picks up new and renewed certificates by polling `certificates.updated_at` — no restart needed.
 */
import { listCertificatesByIds, listCertificateVersions, type Db } from "@ctrl/db";
import { vaultContext, type Vault } from "@ctrl/vault";
import { X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";
import type { Logger } from "pino";

/** Where ACME HTTP-01 challenges are served; never redirected to HTTPS. */
export const ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/** Options for {@link createCertStore}. */
export interface CertStoreOptions {
  db: Db;
  vault: Vault;
  logger?: Logger;
  /** How often to look for new or renewed certificates (default 2 s). */
  pollIntervalMs?: number;
  /** Hostnames that must stay on plain HTTP even once they have a certificate. */
  noRedirectHosts?: Iterable<string>;
}

/** One loaded certificate. */
export interface LoadedCertificate {
  id: string;
  hostname: string;
  updatedAt: number;
  expiresAt: number;
  /** SHA-256 fingerprint of the leaf, for logs and tests. */
  fingerprint: string;
  context: SecureContext;
}

/** The store: `SNICallback` for a TLS server, lookups and the HTTP→HTTPS redirect decision. */
export interface CertStore {
  /** Loads everything once (call before listening), then polls until {@link stop}. */
  start(): Promise<void>;
  stop(): void;
  /** One poll now: loads new and changed certificates, drops deleted ones. Returns how many changed. */
  refresh(): Promise<number>;
  /** The certificate for a TLS server name: exact match first, then the wildcard of its parent. */
  lookup(servername: string): LoadedCertificate | undefined;
  /** For `tls.createServer({ SNICallback })`; an unknown name fails the handshake. */
  SNICallback: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
  /**
   * Whether a plain-HTTP request should be redirected to HTTPS: only once a certificate covers the
   * host, never for the ACME challenge path, and not for hosts configured to stay on HTTP.
   */
  shouldRedirectToHttps(host: string, path: string): boolean;
  /** Number of certificates loaded. */
  readonly size: number;
}

/** Lower-cases a Host header / server name and drops the port and a trailing dot. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h; // IPv6 literal: never a certificate name
  const colon = h.lastIndexOf(":");
  if (colon !== -1) h = h.slice(0, colon);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/** The candidate certificate names for a host: itself, then `*.<parent>` (one label only, per RFC 6125). */
export function candidateNames(host: string): string[] {
  const h = normalizeHost(host);
  const dot = h.indexOf(".");
  if (dot <= 0 || h.indexOf(".", dot + 1) === -1) return [h];
  return [h, `*${h.slice(dot)}`];
}

/** Creates a store; see {@link CertStore}. */
export function createCertStore(options: CertStoreOptions): CertStore {
  // Long because one closure over the certificate map and poll timer; its methods are short.
  const byHost = new Map<string, LoadedCertificate>();
  const noRedirect = new Set([...(options.noRedirectHosts ?? [])].map(normalizeHost));
  const interval = options.pollIntervalMs ?? 2_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  const load = (row: {
    id: string;
    hostname: string;
    certificate: string;
    encrypted_private_key: string;
    expires_at: number;
    updated_at: number;
  }): LoadedCertificate => {
    // The key exists in plaintext only inside this call and the SecureContext built from it.
    const key = options.vault.decrypt(row.encrypted_private_key, vaultContext.certificateKey(row.hostname));
    try {
      const context = createSecureContext({ cert: row.certificate, key });
      const fingerprint = new X509Certificate(row.certificate).fingerprint256;
      return {
        id: row.id,
        hostname: row.hostname,
        updatedAt: Number(row.updated_at),
        expiresAt: Number(row.expires_at),
        fingerprint,
        context,
      };
    } finally {
      key.fill(0);
    }
  };

  const poll = async (): Promise<number> => {
    const index = await listCertificateVersions(options.db);
    const seen = new Set<string>();
    const stale: string[] = [];
    for (const r of index) {
      seen.add(r.hostname);
      const current = byHost.get(r.hostname);
      if (!current || current.updatedAt !== Number(r.updated_at) || current.id !== r.id) stale.push(r.id);
    }
    let changed = 0;
    for (let i = 0; i < stale.length; i += 200) {
      const rows = await listCertificatesByIds(options.db, stale.slice(i, i + 200));
      for (const row of rows) {
        try {
          const loaded = load(row);
          byHost.set(row.hostname, loaded);
          changed++;
          options.logger?.info(
            { hostname: row.hostname, certificateId: row.id, fingerprint: loaded.fingerprint, expiresAt: loaded.expiresAt },
            "certificate loaded",
          );
        } catch (err) {
          // One broken row (wrong vault key, bad PEM) must not take the others down; the old one stays.
          options.logger?.error(
            { hostname: row.hostname, certificateId: row.id, err: (err as Error).message },
            "certificate could not be loaded",
          );
        }
      }
    }
    for (const host of [...byHost.keys()]) {
      if (!seen.has(host)) {
        byHost.delete(host);
        changed++;
        options.logger?.info({ hostname: host }, "certificate removed");
      }
    }
    return changed;
  };

  const refresh = () => {
    // One poll at a time: a slow database must not pile up overlapping polls.
    running ??= poll().finally(() => (running = undefined));
    return running;
  };

  const lookup = (servername: string) => {
    for (const name of candidateNames(servername)) {
      const hit = byHost.get(name);
      if (hit) return hit;
    }
    return undefined;
  };

  return {
    async start() {
      await refresh();
      const tick = () => {
        timer = setTimeout(() => {
          refresh()
            .catch((err) => options.logger?.warn({ err: (err as Error).message }, "certificate poll failed"))
            .finally(() => timer && tick());
        }, interval);
        timer.unref();
      };
      tick();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    refresh,
    lookup,
    SNICallback(servername, cb) {
      const hit = lookup(servername);
      if (hit) cb(null, hit.context);
      else cb(new Error(`no certificate for ${servername}`));
    },
    shouldRedirectToHttps(host, path) {
      if (path.startsWith(ACME_CHALLENGE_PREFIX)) return false;
      const h = normalizeHost(host);
      if (noRedirect.has(h)) return false;
      return lookup(h) !== undefined;
    },
    get size() {
      return byHost.size;
    },
  };
}
