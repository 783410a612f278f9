import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { connect, type PeerCertificate } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@ctrl/testing";
import { Vault, vaultContext } from "@ctrl/vault";
import { candidateNames, createCertStore, normalizeHost, type CertStore } from "../src/index.js";

const run = promisify(execFile);
const vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
let dir: string;
let database: TestDatabase;
let store: CertStore;
let server: Server;
let port: number;

/** A self-signed certificate for `name` made with openssl (the store does not care who issued it). */
async function selfSigned(name: string): Promise<{ cert: string; key: string }> {
  const base = join(dir, randomBytes(6).toString("hex"));
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${base}.key`,
    "-out",
    `${base}.crt`,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    `subjectAltName=DNS:${name}`,
  ]);
  return { cert: await readFile(`${base}.crt`, "utf8"), key: await readFile(`${base}.key`, "utf8") };
}

async function upsertCert(hostname: string, updatedAt: number, encryptFor = hostname) {
  const { cert, key } = await selfSigned(hostname);
  const row = {
    certificate: cert,
    encrypted_private_key: vault.encrypt(key, vaultContext.certificateKey(encryptFor)),
    expires_at: updatedAt + 86_400_000,
    updated_at: updatedAt,
  };
  const existing = await database.db.selectFrom("certificates").select("id").where("hostname", "=", hostname).executeTakeFirst();
  if (existing) await database.db.updateTable("certificates").set(row).where("id", "=", existing.id).execute();
  else
    await database.db
      .insertInto("certificates")
      .values({ id: `cert_${randomBytes(6).toString("hex")}`, workspace_id: "ws_test", hostname, created_at: updatedAt, ...row })
      .execute();
  return cert;
}

/**
 * The leaf certificate the server presents for `servername`, or the TLS handshake error. Only a
 * connection that reached the server counts as a failed handshake: when the TCP connection itself
 * fails (nothing listening, the server gone) this rejects, so "no certificate" cannot be faked by a
 * dead server.
 */
function handshake(servername: string): Promise<PeerCertificate | Error> {
  return new Promise((resolve, reject) => {
    let reached = false;
    const socket = connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false }, () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolve(peer);
    });
    socket.once("connect", () => (reached = true));
    socket.on("error", (err) => (reached ? resolve(err) : reject(new Error(`no TCP connection to the TLS server: ${err.message}`))));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "certstore-"));
  database = await createTestDatabase();
  await upsertCert("app.example.test", 1);
  await upsertCert("*.wild.example.test", 1);
  store = createCertStore({ db: database.db, vault, pollIntervalMs: 50, noRedirectHosts: ["plain.example.test"] });
  await store.start();
  server = createServer({ SNICallback: store.SNICallback }, (_req, res) => res.end("ok"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  store?.stop();
  server?.close();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe("host names", () => {
  it("normalises Host headers", () => {
    expect(normalizeHost("App.Example.test:8443")).toBe("app.example.test");
    expect(normalizeHost("app.example.test.")).toBe("app.example.test");
  });
  it("tries the exact name, then the wildcard of the parent only", () => {
    expect(candidateNames("a.b.example.test")).toEqual(["a.b.example.test", "*.b.example.test"]);
    expect(candidateNames("example.test")).toEqual(["example.test"]);
  });
});

describe("certificate store", () => {
  it("serves the exact certificate by SNI", async () => {
    const peer = await handshake("app.example.test");
    expect(peer).not.toBeInstanceOf(Error);
    expect((peer as PeerCertificate).subject.CN).toBe("app.example.test");
  });

  it("falls back to the wildcard of the parent, one label deep only", async () => {
    expect(((await handshake("x.wild.example.test")) as PeerCertificate).subject.CN).toBe("*.wild.example.test");
    expect(await handshake("a.b.wild.example.test")).toBeInstanceOf(Error);
    expect(await handshake("wild.example.test")).toBeInstanceOf(Error);
  });

  it("fails the handshake for an unknown name", async () => {
    expect(await handshake("unknown.example.test")).toBeInstanceOf(Error);
  });

  it("picks up a new certificate and a renewed one without a restart", async () => {
    await upsertCert("new.example.test", 2);
    await waitFor(async () => !((await handshake("new.example.test")) instanceof Error));
    const before = ((await handshake("app.example.test")) as PeerCertificate).fingerprint256;
    await upsertCert("app.example.test", 3);
    await waitFor(async () => ((await handshake("app.example.test")) as PeerCertificate).fingerprint256 !== before);
    expect(store.lookup("app.example.test")!.updatedAt).toBe(3);
  });

  it("drops deleted certificates", async () => {
    await upsertCert("gone.example.test", 4);
    await waitFor(() => store.lookup("gone.example.test") !== undefined);
    await database.db.deleteFrom("certificates").where("hostname", "=", "gone.example.test").execute();
    await waitFor(() => store.lookup("gone.example.test") === undefined);
  });

  it("skips a row whose key does not decrypt for its hostname, keeping the others", async () => {
    await upsertCert("moved.example.test", 5, "someone-else.example.test");
    await store.refresh();
    expect(store.lookup("moved.example.test")).toBeUndefined();
    expect(store.lookup("app.example.test")).toBeDefined();
  });

  it("redirects to HTTPS only with a certificate, never the ACME path, not opted-out hosts", async () => {
    expect(store.shouldRedirectToHttps("app.example.test", "/")).toBe(true);
    expect(store.shouldRedirectToHttps("APP.example.test:80", "/x")).toBe(true);
    expect(store.shouldRedirectToHttps("x.wild.example.test", "/")).toBe(true);
    expect(store.shouldRedirectToHttps("app.example.test", "/.well-known/acme-challenge/tok")).toBe(false);
    expect(store.shouldRedirectToHttps("nocert.example.test", "/")).toBe(false);
    await upsertCert("plain.example.test", 6);
    await store.refresh();
    expect(store.lookup("plain.example.test")).toBeDefined();
    expect(store.shouldRedirectToHttps("plain.example.test", "/")).toBe(false);
  });
});

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}
