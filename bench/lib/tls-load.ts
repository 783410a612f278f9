/**
 * Load child for the TLS bench (run as its own process so the load does not share the event loop of
 * the servers under test). Reads its job from BENCH_TLS_JOB (JSON), prints one JSON result line.
 *
 * Modes: `new-connection` (a fresh TCP/TLS connection per request: full handshake, `connection:
 * close`, no session resumption) and `keep-alive` (one connection per worker, requests in sequence).
 * Hosts rotate across `hosts`, each worker pinned to one host in keep-alive mode; TLS uses `servername`
 * = host (SNI) and trusts only `ca`.
 */
import { Client } from "undici";

interface Job {
  origin: string;
  tls: boolean;
  ca?: string;
  hosts: string[];
  mode: "new-connection" | "keep-alive";
  connections: number;
  durationSec: number;
}

const job = JSON.parse(process.env.BENCH_TLS_JOB!) as Job;
const latencies: number[] = [];
let errors = 0;
let lastError = "";
const deadline = performance.now() + job.durationSec * 1000;

const clientFor = (host: string) =>
  new Client(job.origin, {
    ...(job.tls ? { connect: { servername: host, ca: job.ca, rejectUnauthorized: true, session: undefined } } : {}),
    pipelining: 1,
  });

async function once(client: Client, host: string, close: boolean): Promise<void> {
  const res = await client.request({ path: "/", method: "GET", headers: { host, ...(close ? { connection: "close" } : {}) } });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
}

async function worker(index: number): Promise<void> {
  let n = index;
  let client: Client | undefined;
  while (performance.now() < deadline) {
    const host = job.hosts[(job.mode === "keep-alive" ? index : n++) % job.hosts.length]!;
    const started = performance.now();
    try {
      if (job.mode === "new-connection") {
        const c = clientFor(host);
        try {
          await once(c, host, true);
        } finally {
          await c.destroy();
        }
      } else {
        client ??= clientFor(host);
        await once(client, host, false);
      }
      latencies.push(performance.now() - started);
    } catch (err) {
      errors++;
      lastError = (err as Error).message;
      await client?.destroy();
      client = undefined;
    }
  }
  await client?.close();
}

const started = performance.now();
await Promise.all(Array.from({ length: job.connections }, (_, i) => worker(i)));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
console.log(JSON.stringify({ count: latencies.length, perSec: latencies.length / elapsed, p50: pct(50), p99: pct(99), errors, lastError }));
