#!/usr/bin/env -S node --import tsx
/**
 * `pnpm dev`: the whole control plane on this machine as local processes (dev/README.md).
 * `pnpm dev --check`: start it, run the upload self-check, stop, exit 0/1 (for CI and fresh clones).
 *
 * Composition root: the only place of the stack that reads argv and the environment.
 */
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { SeedResult } from "@ctrl/db";
import { createStorage } from "@ctrl/s3";
import { loadDevConfig, portsOf } from "./src/config.js";
import { LogMux } from "./src/logs.js";
import { guardOutput } from "./src/runner/output.js";
import { chooseDatabase } from "./src/mysql.js";
import { leftoverProcesses, PortsBusyError, processesMentioning, StackRunner, StackStoppedError, StepFailedError } from "./src/runner.js";
import { kraneDataDirFor, sandboxProblem } from "./src/sandbox.js";
import { checkUploadFlow } from "./src/self-check.js";
import { deployHello } from "./src/deploy-hello.js";
import { localS3, stackSpecs, stackUrls } from "./src/specs.js";
import { summary } from "./src/summary.js";

const usage = `usage: pnpm dev [--check]

  (no flag)  start the local stack, print its URLs and a root key, run the upload self-check,
             and keep running until Ctrl-C (which stops everything it started)
  --check    start the stack, run the self-check, stop, and exit 0 (works) or 1 (does not)

Settings (ports, data dir, DATABASE_URL…) are environment variables: see dev/README.md.`;

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(usage);
  process.exit(0);
}
const unknown = args.filter((a) => a !== "--check");
if (unknown.length) {
  console.error(`unknown argument ${unknown.join(" ")}\n\n${usage}`);
  process.exit(2);
}
const checkOnly = args.includes("--check");

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const config = loadDevConfig(process.env);
const dataDir = resolve(config.CTRL_DEV_DATA_DIR ?? join(root, ".data"));
const ports = portsOf(config);
const urls = stackUrls(ports);
const colour = !config.NO_COLOR && process.stdout.isTTY === true;
// Set up before anything is written: losing our output must stop the stack, never kill it mid-way.
// Before anything was started there is nothing to stop; from then on, stop what was started.
let onOutputGone: () => void = () => process.exit(1);
const output = guardOutput([process.stdout, process.stderr], () => onOutputGone());
const mux = new LogMux(
  (text) => {
    if (!output.gone()) process.stdout.write(text);
  },
  { colour, raw: config.CTRL_DEV_RAW_LOGS },
);
const say = (line: string) => mux.line("dev", line);

const database = await chooseDatabase({
  databaseUrl: config.DATABASE_URL,
  mode: config.CTRL_DEV_MYSQL,
  dataDir,
  privatePort: ports.mysql,
  path: process.env.PATH ?? "",
});
if (database.kind === "missing") {
  console.error(`\n${database.message}\n`);
  process.exit(1);
}
const sandbox = sandboxProblem();
if (sandbox) {
  console.error(`\n${sandbox}\n`);
  process.exit(1);
}

const sandboxMode = process.env.KRANE_SANDBOX === "none" ? "none" : "bwrap";
const kraneData = kraneDataDirFor(dataDir, sandboxMode);
if (kraneData.note) say(kraneData.note);

const logDir = join(dataDir, "logs");
const pidFile = join(dataDir, "pids.json");
await mkdir(logDir, { recursive: true });
const runner = new StackRunner(
  stackSpecs({
    root,
    dataDir,
    ports,
    database,
    logLevel: config.LOG_LEVEL,
    restateLog: config.RESTATE_LOG,
    acme: config.CTRL_DEV_ACME,
    sandbox: sandboxMode,
    kraneDataDir: kraneData.dir,
  }),
  {
    line: (name, line) => mux.line(name, line),
    crashed: (name, exit) => {
      say(`✗ ${name} exited (code ${exit.code}, signal ${exit.signal}); stopping the stack (its log: ${join(logDir, `${name}.log`)})`);
      void shutdown(1);
    },
  },
  { logDir, pidFile },
);
for (const spec of runner.specs) mux.register(spec.name);
say(`pid ${process.pid}; database: ${database.description}`);

let exiting = false;
// Output gone without a signal (e.g. `pnpm dev | head`): stop everything; exit 1 (it did not end normally).
onOutputGone = () => void shutdown(1);
async function shutdown(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    say("stopping everything this command started (reverse order)…");
    await runner.stop();
    say("stopped");
    process.exit(code);
  }
  return new Promise<never>(() => undefined);
}
let interrupts = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    interrupts += 1;
    if (interrupts > 1) {
      say(`second ${signal}: killing every process now (SIGKILL)`);
      runner.killAll();
      process.exit(130);
    }
    // Being asked to stop is not a failure: exit 0 once everything stopped (pnpm would print ELIFECYCLE otherwise).
    void shutdown(0);
  });
}

const started = Date.now();
try {
  await runner.start();
} catch (err) {
  if (err instanceof StackStoppedError && exiting) await new Promise(() => undefined); // shutdown() exits
  let message = err instanceof PortsBusyError || err instanceof StepFailedError ? err.message : `${(err as Error).stack ?? String(err)}`;
  if (err instanceof PortsBusyError) {
    const leftovers = await leftoverProcesses(pidFile);
    // Also what those services started in sessions of their own (krane's instances): found by the data dir.
    const groups = new Set(leftovers.map((l) => l.pid));
    const strays = processesMentioning(dataDir + "/").filter((p) => !groups.has(p.pgid));
    if (leftovers.length || strays.length) {
      const lines = [
        ...leftovers.map((l) => `  ${l.name}  pid ${l.pid} (process group)`),
        ...strays.map((p) => `  pid ${p.pid}  ${p.cmdline.slice(0, 100)}`),
      ];
      const targets = [...leftovers.map((l) => `-${l.pid}`), ...strays.map((p) => String(p.pid))];
      message += `\n\nAn earlier \`pnpm dev\` was killed without stopping its processes; these still run:\n${lines.join("\n")}\nStop them with: kill -- ${targets.join(" ")}`;
    }
  }
  console.error(`\n✗ the stack did not start:\n${message}\n(logs of every process: ${logDir})\n`);
  await shutdown(1);
}

const seed = runner.outputs.seed as SeedResult;
process.stdout.write(
  summary({
    services: runner.services,
    apiUrl: urls.api,
    seed,
    seconds: (Date.now() - started) / 1000,
    secretsFile: join(dataDir, "secrets.env"),
  }),
);

const storage = createStorage({ endpoint: urls.s3, ...localS3 });
say("self-check: generateUploadUrl with the root key, PUT a tar.gz to the URL, read it back from S3…");
const check = await checkUploadFlow({ apiUrl: urls.api, rootKey: seed.rootKey, projectId: seed.projectId, storage });
storage.destroy();
if (check.ok) say(`✓ upload flow works (${check.bytes} bytes at s3://${localS3.bucket}/${check.context})`);
else say(`✗ upload flow failed at "${check.step}": ${check.error}`);

if (checkOnly) await shutdown(check.ok ? 0 : 1);

// The README's first command ends with examples/hello deployed through the CLI, built by the worker's
// local builder and served through frontline (not under --check; CTRL_DEV_DEPLOY_HELLO=false skips it).
if (process.env.CTRL_DEV_DEPLOY_HELLO !== "false") {
  say("deploying examples/hello through the CLI (ctrl deploy examples/hello --env production)…");
  const frontlinePort = runner.services.find((svc) => svc.name === "frontline")?.ports?.http ?? 8000;
  const hello = await deployHello({ root, apiUrl: urls.api, rootKey: seed.rootKey, projectId: seed.projectId, frontlinePort, log: say });
  if (hello.ok) say(`✓ examples/hello is live as ${hello.deploymentId}:\n${hello.urls.map((u) => `    ${u}`).join("\n")}`);
  else say(`✗ deploying examples/hello failed: ${hello.error}`);
  say(`deploy your own: CTRL_API_URL=${urls.api} CTRL_ROOT_KEY=${seed.rootKey} pnpm ctrl deploy <dir> --project ${seed.projectId}`);
}
say("running; Ctrl-C to stop");
