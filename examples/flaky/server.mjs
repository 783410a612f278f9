// A dependency-free HTTP app (no package.json: .mjs keeps it ESM) whose misbehaviour is chosen per deployment by its command's flags, for
// the rollout tests (packages/stack/test/deploy-rollout.e2e.int.test.ts). `GET /` answers like
// examples/hello ({deploymentId, instanceId, region}); `/health` is always 200.
//   --regions=r1,r2     the flags below apply only in these regions (CTRL_REGION); default: every region
//   --unless-env=NAME   …and only while the variable NAME is unset (an environment variable set later "fixes" it)
//   --exit=CODE         exit with CODE at start instead of listening
//   --delay-start=MS    listen only after MS milliseconds
//   --error-every=N     every Nth request to `/` answers 500
import { createServer } from "node:http";

const flags = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => /^--([a-z-]+)=(.*)$/.exec(a))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);
const region = process.env.CTRL_REGION ?? null;
const applies =
  (!flags.regions || flags.regions.split(",").includes(region)) && !(flags["unless-env"] && process.env[flags["unless-env"]] !== undefined);
const exitCode = applies && flags.exit !== undefined ? Number(flags.exit) : undefined;
const delayMs = applies ? Number(flags["delay-start"] ?? 0) : 0;
const errorEvery = applies ? Number(flags["error-every"] ?? 0) : 0;

if (exitCode !== undefined) {
  console.error(`flaky: exiting with code ${exitCode} in region ${region}`);
  process.exit(exitCode);
}

const port = Number(process.env.PORT ?? 3000);
const identity = {
  deploymentId: process.env.CTRL_DEPLOYMENT_ID ?? null,
  instanceId: process.env.CTRL_INSTANCE_ID ?? null,
  region,
};
let requests = 0;

const server = createServer((req, res) => {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  const json = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (path === "/health") return json(200, { status: "ok" });
  if (path !== "/") return json(404, { error: "not found", path });
  requests++;
  if (errorEvery > 0 && requests % errorEvery === 0) return json(500, { error: "flaky: failing on purpose", ...identity });
  return json(200, { message: "hello from flaky", ...identity });
});

setTimeout(() => server.listen(port, () => console.log(`flaky listening on ${port} in region ${region}`)), delayMs);

process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
