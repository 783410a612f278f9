/**
 * TLS at the edge. In one run, against real processes on this machine:
 *   1. frontline (its own process, `HTTPS_PORT` + `VAULT_MASTER_KEYS`) with 100 certificates loaded
 *      from MySQL through the certificate store, routing 100 hosts to one `examples/hello` instance;
 *   2. new-connection requests (a full TLS handshake each, SNI rotating across the 100 hosts) vs the
 *      same over plain HTTP (a TCP connect each): handshakes/s ≈ requests/s;
 *   3. keep-alive HTTPS requests/s vs keep-alive plain HTTP (the ceiling for TLS);
 *   4. issuance time against Pebble: add a custom domain through the public API → certificate
 *      stored, p50 of BENCH_ISSUANCES (5), through the real worker, restate-server and ctrl-api.
 * Load runs in a child process (bench/lib/tls-load.ts). Prints req/s, p50, p99 and ratios.
 *
 * Env: BENCH_DURATION_SEC (5), BENCH_CONNECTIONS (16), BENCH_ROUNDS (2), BENCH_ISSUANCES (5).
 */
import { startCertStack, startFrontlineProcess } from "@ctrl/stack";
import {
  createTestDatabase,
  freePort,
  insertDeployment,
  insertInstance,
  newEdgeProject,
  setRoute,
  startProcess,
  waitFor,
  waitForHttpOk,
  writeSelfSignedCertificate,
  type ManagedProcess,
} from "@ctrl/testing";
import { Vault, vaultContext } from "@ctrl/vault";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { printTable } from "./lib/load.js";

// The in-process worker of the issuance part logs every step through ctx.console otherwise.
process.env.RESTATE_LOGGING ??= "WARN";
const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const durationSec = Number(process.env.BENCH_DURATION_SEC ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const issuances = Number(process.env.BENCH_ISSUANCES ?? 5);
const certificateCount = 100;

interface LoadFigures {
  count: number;
  perSec: number;
  p50: number;
  p99: number;
  errors: number;
  lastError: string;
}

/** Runs bench/lib/tls-load.ts as a child process. */
async function load(job: {
  origin: string;
  tls: boolean;
  ca?: string;
  hosts: string[];
  mode: "new-connection" | "keep-alive";
  durationSec: number;
}): Promise<LoadFigures> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(process.execPath, ["--import", tsx, join(here, "lib/tls-load.ts")], {
    env: { ...process.env, BENCH_TLS_JOB: JSON.stringify({ ...job, connections }) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`tls-load exited with ${code}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as LoadFigures;
}

/** A CA and `count` leaf certificates (ECDSA P-256) signed by it, made with openssl. */
async function makeCertificates(
  dir: string,
  hosts: string[],
): Promise<{ ca: string; leaves: { host: string; cert: string; key: string }[] }> {
  const caKey = join(dir, "ca.key");
  const caCrt = join(dir, "ca.crt");
  await writeSelfSignedCertificate({ certPath: caCrt, keyPath: caKey, days: 2, subject: "/CN=bench CA" });
  const leaves = [];
  for (const [i, host] of hosts.entries()) {
    const key = join(dir, `${i}.key`);
    const csr = join(dir, `${i}.csr`);
    const crt = join(dir, `${i}.crt`);
    const ext = join(dir, `${i}.ext`);
    await writeFile(ext, `subjectAltName=DNS:${host}\n`);
    await run("openssl", [
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      csr,
      "-subj",
      `/CN=${host}`,
    ]);
    await run("openssl", [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      caCrt,
      "-CAkey",
      caKey,
      "-CAcreateserial",
      "-out",
      crt,
      "-days",
      "2",
      "-extfile",
      ext,
    ]);
    leaves.push({ host, cert: await readFile(crt, "utf8"), key: await readFile(key, "utf8") });
  }
  return { ca: await readFile(caCrt, "utf8"), leaves };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const processes: ManagedProcess[] = [];
const dir = await mkdtemp(join(tmpdir(), "ctrl-bench-tls-"));
const database = await createTestDatabase();
try {
  // --- part 1: the edge with 100 certificates
  const vaultKeys = `k1:${randomBytes(32).toString("base64")}`;
  const vault = Vault.fromSpec(vaultKeys);
  const hosts = Array.from({ length: certificateCount }, (_, i) => `site${i}.bench.example.test`);
  const { ca, leaves } = await makeCertificates(dir, hosts);
  const project = newEdgeProject();
  const deploymentId = await insertDeployment(database.db, project);
  const helloPort = await freePort();
  const hello = startProcess("hello", process.execPath, [join(here, "../examples/hello/server.js")], {
    env: { PATH: process.env.PATH, PORT: String(helloPort), CTRL_DEPLOYMENT_ID: deploymentId, CTRL_INSTANCE_ID: "ins-bench" },
  });
  processes.push(hello);
  await waitForHttpOk(`http://127.0.0.1:${helloPort}/health`, 10_000);
  await insertInstance(database.db, project, deploymentId, `127.0.0.1:${helloPort}`);
  const now = Date.now();
  for (const leaf of leaves) {
    await setRoute(database.db, project, leaf.host, deploymentId);
    await database.db
      .insertInto("certificates")
      .values({
        id: `cert_bench${leaf.host.split(".")[0]}`,
        workspace_id: project.workspaceId,
        hostname: leaf.host,
        certificate: leaf.cert,
        encrypted_private_key: vault.encrypt(leaf.key, vaultContext.certificateKey(leaf.host)),
        expires_at: now + 86_400_000,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }
  const httpsPort = await freePort();
  const frontline = await startFrontlineProcess({
    DATABASE_URL: database.url,
    LOG_LEVEL: "warn",
    CTRL_API_URL: "",
    HTTPS_PORT: String(httpsPort),
    VAULT_MASTER_KEYS: vaultKeys,
    FRONTLINE_HTTPS_REDIRECT: "false",
  });
  processes.push(frontline.process);

  const https = `https://127.0.0.1:${httpsPort}`;
  const http = frontline.url;
  // Warm both paths (JIT, connection pools) before measuring.
  await load({ origin: https, tls: true, ca, hosts, mode: "new-connection", durationSec: 1 });
  await load({ origin: http, tls: false, hosts, mode: "keep-alive", durationSec: 1 });
  // Interleaved rounds, so that load from other processes on the machine hits every mode alike;
  // the figures of one mode are merged over its rounds (req/s averaged, percentiles the worst round's).
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const modes = [
    { origin: http, tls: false, mode: "new-connection" as const },
    { origin: https, tls: true, ca, mode: "new-connection" as const },
    { origin: http, tls: false, mode: "keep-alive" as const },
    { origin: https, tls: true, ca, mode: "keep-alive" as const },
  ];
  const results: LoadFigures[][] = modes.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, m] of modes.entries()) {
      // One unmeasured second of the same mode first: the previous mode's backlog (handshakes still
      // queued in frontline when its load process exits) must not be charged to this one.
      await load({ ...m, hosts, durationSec: 1 });
      results[i]!.push(await load({ ...m, hosts, durationSec }));
    }
  }
  const merged = results.map((rs) => ({
    count: rs.reduce((n, x) => n + x.count, 0),
    perSec: rs.reduce((n, x) => n + x.perSec, 0) / rs.length,
    p50: Math.max(...rs.map((x) => x.p50)),
    p99: Math.max(...rs.map((x) => x.p99)),
    errors: rs.reduce((n, x) => n + x.errors, 0),
    lastError:
      rs
        .map((x) => x.lastError)
        .filter(Boolean)
        .at(-1) ?? "",
  }));
  const [httpNew, httpsNew, httpKeep, httpsKeep] = merged as [LoadFigures, LoadFigures, LoadFigures, LoadFigures];
  console.log(
    `\nfrontline → examples/hello, ${certificateCount} certificates loaded, ${connections} concurrent clients, ${rounds} interleaved rounds of ${durationSec}s per mode; SNI rotates across ${certificateCount} hosts`,
  );
  printTable(
    ["path", "req/s", "p50 ms", "p99 ms", "errors", "ratio to plain HTTP"],
    [
      ["plain HTTP, new connection per request", httpNew, httpNew],
      ["HTTPS, new connection per request (= handshakes/s)", httpsNew, httpNew],
      ["plain HTTP, keep-alive", httpKeep, httpKeep],
      ["HTTPS, keep-alive", httpsKeep, httpKeep],
    ].map(([label, r, base]) => {
      const f = r as LoadFigures;
      return [
        label as string,
        Math.round(f.perSec),
        f.p50.toFixed(1),
        f.p99.toFixed(1),
        f.errors,
        (f.perSec / (base as LoadFigures).perSec).toFixed(2),
      ];
    }),
  );
  for (const f of [httpNew, httpsNew, httpKeep, httpsKeep]) if (f.errors) console.log(`  (errors seen, last: ${f.lastError})`);

  // --- part 2: issuance time against Pebble
  const cs = await startCertStack();
  try {
    const times: number[] = [];
    for (let i = 0; i < issuances; i++) {
      const domain = `issue${i}-${randomBytes(3).toString("hex")}.example.test`;
      const started = performance.now();
      const res = await fetch(`${cs.stack.apiUrl}/v2/deploy.addCustomDomain`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${cs.stack.seed.rootKey}` },
        body: JSON.stringify({ projectId: cs.stack.seed.projectId, environmentSlug: "production", domain }),
      });
      if (res.status !== 201) throw new Error(`addCustomDomain answered ${res.status}: ${await res.text()}`);
      // Ownership first: the record is published right away, so the time includes one TXT lookup.
      await cs.publishVerification(domain);
      await waitFor(
        `${domain} issued`,
        async () => {
          const c = await cs.stack.database.db.selectFrom("certificates").select("id").where("hostname", "=", domain).executeTakeFirst();
          return c !== undefined;
        },
        { timeoutMs: 60_000, intervalMs: 10 },
      );
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(
      `\nissuance against Pebble (PEBBLE_VA_NOSLEEP=1): POST addCustomDomain → TXT ownership record seen → certificate stored, ${issuances} domains one after another (HTTP-01, ECDSA P-256)`,
    );
    printTable(
      ["p50 ms", "p99 ms", "min ms", "max ms"],
      [[pct(times, 50).toFixed(0), pct(times, 99).toFixed(0), times[0]!.toFixed(0), times.at(-1)!.toFixed(0)]],
    );
  } finally {
    await cs.close();
  }
} finally {
  for (const p of processes.reverse()) await p.stop();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
}
