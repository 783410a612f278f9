import { spawn } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** One load run: what to hit and how hard. */
export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSec: number;
}

/** Figures of one run (latencies in ms). */
export interface LoadResult {
  connections: number;
  requestsPerSec: number;
  /** Mean latency: autocannon keeps it as a float, while its percentiles are whole milliseconds. */
  mean: number;
  p50: number;
  p99: number;
  total: number;
  /** Non-2xx responses plus connection errors and timeouts: should be 0 for a valid figure. */
  failures: number;
}

/**
 * Runs autocannon as a separate process (its CLI with `--json`), so the load generator does not
 * share the event loop of the servers under test, which live in the bench process.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const args = [
    require.resolve("autocannon"),
    "--json",
    "--no-progress",
    "-c",
    String(options.connections),
    "-d",
    String(options.durationSec),
    "-m",
    options.method ?? "GET",
  ];
  for (const [k, v] of Object.entries(options.headers ?? {})) args.push("-H", `${k}=${v}`);
  if (options.body !== undefined) args.push("-b", options.body);
  args.push(options.url);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`autocannon exited with ${code}: ${stderr.slice(-2000)}`);
  const r = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { mean: number; p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  return {
    connections: options.connections,
    requestsPerSec: r.requests.average,
    mean: r.latency.mean,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    failures: r.non2xx + r.errors + r.timeouts,
  };
}

/** Prints rows as an aligned text table. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  for (const [n, row] of cells.entries()) {
    console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
    if (n === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}
