/**
 * Runs benchmarks by name: `pnpm bench` runs every `bench/*.ts` except this file,
 * `pnpm bench upload-url` only that one. Each runs in its own process, one after another.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.endsWith(".d.ts"))
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2).filter((a) => a !== "--");
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}\navailable: ${available.join(", ")}`);
  process.exit(2);
}
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
let failed = 0;
for (const name of wanted.length ? wanted : available) {
  console.log(`\n=== bench ${name}`);
  const result = spawnSync(process.execPath, ["--import", tsx, join(here, `${name}.ts`)], {
    stdio: "inherit",
    cwd: here,
    // Benches that host the worker endpoint: the SDK otherwise logs every invocation at INFO.
    env: { ...process.env, RESTATE_LOGGING: process.env.RESTATE_LOGGING ?? "WARN" },
  });
  if (result.status !== 0) {
    console.error(`bench ${name} failed (exit ${result.status ?? result.signal})`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
