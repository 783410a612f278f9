// Serves `/` (names the deployment and the build), `/health` and `/openapi.json` on $PORT.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import ms from "ms";

const started = Date.now();
const build = JSON.parse(readFileSync(new URL("./build-info.json", import.meta.url), "utf8"));
const port = Number(process.env.PORT ?? 3000);
const deployment = process.env.CTRL_DEPLOYMENT_ID ?? "unknown";

createServer((req, res) => {
  if (req.url === "/health") return res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
  if (req.url === "/openapi.json") {
    return res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        openapi: "3.0.0",
        info: { title: "with-deps", version: "1.0.0" },
        paths: { "/": { get: { responses: { 200: { description: "hello" } } } } },
      }),
    );
  }
  res
    .writeHead(200, { "content-type": "text/plain" })
    .end(`with-deps from ${deployment}, built by ${build.builtBy}, up ${ms(Date.now() - started)}\n`);
}).listen(port, () => console.log(`with-deps listening on ${port}`));
