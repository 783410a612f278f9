// An app that halts on purpose, following docs/halt-contract.md: exit 70 (upgrade required),
// 71 (binary too new) or 72 (downgrade detected), with a machine-readable `halt_intent` on GET /status.
//
// When: HALT_CODE=70|71|72 at start (after HALT_AFTER_MS, default 0), or POST /halt?code=70[&plan=v2]
// [&stay=1] at any time. HALT_PLAN names the plan of a 70 (default "v2"). HALT_STAY_ALIVE=1 (or
// stay=1) keeps the process serving its status after halting instead of exiting (ctrl.json opts in
// to stayAlive; the agent terminates it after the grace window; POST /exit[?code=N] ends it now). HALT_NO_STATUS=1 answers 404 on
// /status: an older version of the app, only the exit code tells.
import { createServer } from "node:http";

const reasons = { 70: "upgrade_required", 71: "binary_too_new", 72: "downgrade_detected" };
const port = Number(process.env.PORT ?? 8080);
const startHeight = Number(process.env.HEIGHT_START ?? 1000);
const startedAt = Date.now();
let intent = null;
/** Set by POST /halt?nostatus=1: from then on /status answers 404, as an older version without it would. */
let noStatus = false;

/** A block height that grows by one per second, as a chain node's would. */
const height = () => startHeight + Math.floor((Date.now() - startedAt) / 1000);

function halt(code, { plan, stay }) {
  if (intent) return intent;
  const reason = reasons[code];
  intent = {
    reason,
    plan_name: code === 70 ? plan : "",
    height: height(),
    info: `examples/halting stopped at height ${height()}`,
    announced_at: new Date().toISOString(),
  };
  console.log(`halting: ${JSON.stringify(intent)}${stay ? " (staying alive)" : ""}`);
  // Announce first, exit a little later (HALT_EXIT_DELAY_MS, default 3 s: longer than the agent's status
  // poll), so the supervisor learns the plan and height, not only the code.
  if (!stay) setTimeout(() => process.exit(code), Number(process.env.HALT_EXIT_DELAY_MS ?? 3000));
  return intent;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://app");
  const json = (status, body) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  if (url.pathname === "/health") return json(200, { ok: true });
  if (url.pathname === "/status") {
    if (process.env.HALT_NO_STATUS === "1" || noStatus) return json(404, { error: "no status endpoint in this version" });
    return json(200, { height: height(), halt_intent: intent });
  }
  if (url.pathname === "/halt" && req.method === "POST") {
    const code = Number(url.searchParams.get("code") ?? 70);
    if (!reasons[code]) return json(400, { error: "code must be 70, 71 or 72" });
    if (url.searchParams.get("nostatus") === "1") noStatus = true;
    return json(
      202,
      halt(code, {
        plan: url.searchParams.get("plan") ?? process.env.HALT_PLAN ?? "v2",
        stay: url.searchParams.get("stay") === "1" || process.env.HALT_STAY_ALIVE === "1",
      }),
    );
  }
  if (url.pathname === "/exit" && req.method === "POST") {
    // Ends a stay-alive halted process now with ?code= (default: its halt's code, else 0).
    const code = Number(url.searchParams.get("code") ?? (intent ? Object.keys(reasons).find((c) => reasons[c] === intent.reason) : 0));
    json(202, { exiting: code });
    return setTimeout(() => process.exit(code), 50);
  }
  return json(200, { app: "halting", pid: process.pid, height: height(), halted: intent !== null, image: process.env.CTRL_IMAGE ?? null });
});

server.listen(port, "0.0.0.0", () => {
  console.log(`halting example listening on ${port}`);
  const code = Number(process.env.HALT_CODE ?? 0);
  if (reasons[code])
    setTimeout(
      () => halt(code, { plan: process.env.HALT_PLAN ?? "v2", stay: process.env.HALT_STAY_ALIVE === "1" }),
      Number(process.env.HALT_AFTER_MS ?? 0),
    );
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
