// A dependency-free HTTP app for ctrl. The agent sets these variables (defined in one place:
// packages/artifact/src/env.ts, `instanceEnv`): PORT, CTRL_DEPLOYMENT_ID, CTRL_INSTANCE_ID,
// CTRL_PROJECT_ID, CTRL_ENVIRONMENT_ID, CTRL_WORKSPACE_ID, CTRL_REGION.
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 3000);
const identity = {
  deploymentId: process.env.CTRL_DEPLOYMENT_ID ?? null,
  instanceId: process.env.CTRL_INSTANCE_ID ?? null,
  region: process.env.CTRL_REGION ?? null,
  pid: process.pid,
};

// `GET /env?name=X` echoes variable X only when X is listed in HELLO_ECHO_ENV (comma list), so the
// example never dumps secrets by default. (Not CTRL_*: deployments may not set CTRL_* variables.)
const echoable = new Set(
  (process.env.HELLO_ECHO_ENV ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

const openapi = {
  openapi: "3.1.0",
  info: { title: "hello", version: "1.0.0" },
  paths: {
    "/": { get: { summary: "Says which deployment and instance answered", responses: { 200: { description: "greeting" } } } },
    "/health": { get: { summary: "Liveness", responses: { 200: { description: "ok" } } } },
  },
};

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  const path = url.pathname;
  const json = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (path === "/") return json(200, { message: "hello from ctrl", ...identity });
  if (path === "/health") return json(200, { status: "ok" });
  if (path === "/openapi.json") return json(200, openapi);
  if (path === "/env") {
    const name = url.searchParams.get("name") ?? "";
    if (!echoable.has(name)) return json(403, { error: "not in HELLO_ECHO_ENV", name });
    return json(200, { name, value: process.env[name] ?? null });
  }
  return json(404, { error: "not found", path });
});

server.listen(port, () => console.log(`hello listening on ${port} as ${identity.instanceId ?? "(no instance id)"}`));

// Graceful stop: the agent sends SIGTERM, then SIGKILL after its grace period.
process.on("SIGTERM", () => {
  console.log("SIGTERM: closing");
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
