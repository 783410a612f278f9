// examples/hostile: an app that tries to escape its sandbox (see probes.js) and reports every
// attempt on GET /report — together with what its build found (build-report.json). It still serves
// its own page on GET / and GET /health, which is what a well-sandboxed tenant keeps being able to do.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { runProbes } from "./probes.js";

const port = Number(process.env.PORT ?? 3000);
let build = null;
try {
  build = JSON.parse(readFileSync(new URL("./build-report.json", import.meta.url), "utf8"));
} catch {
  /* deployed without a build */
}

createServer(async (req, res) => {
  const json = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (req.url === "/health") return json(200, { status: "ok" });
  if (req.url === "/")
    return json(200, {
      message: "hostile app, still serving its own page",
      instanceId: process.env.CTRL_INSTANCE_ID ?? null,
      pid: process.pid,
    });
  if (req.url === "/report") return json(200, { app: await runProbes("app", { appDir: process.cwd() }), build });
  json(404, { error: "not found" });
}).listen(port, () => console.log(`hostile listening on ${port}`));

process.on("SIGTERM", () => process.exit(0));
