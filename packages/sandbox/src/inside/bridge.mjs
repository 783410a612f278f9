// Runs INSIDE a sandbox, beside the workload, with an empty environment (see ../argv.ts). Plain
// JavaScript with no imports beyond Node's own, so it needs nothing from the repository.
//
//   bridge.mjs serve-fd <fd> <port>      accept on an inherited listening socket <fd> (bound in the
//                                        HOST network namespace by the agent) and relay each
//                                        connection to 127.0.0.1:<port> inside the sandbox
//   bridge.mjs forward <port> <socket> [ready-file]
//                                        listen on 127.0.0.1:<port> inside the sandbox and relay each
//                                        connection to the unix socket <socket> (the build's egress
//                                        proxy, which lives outside); creates
//                                        [ready-file] once it listens
//
// It holds no privilege the workload lacks (same uid, same namespaces): a workload that kills or
// replaces it only breaks its own port.
import { writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";

const [mode, a, b, ready] = process.argv.slice(2);

function relay(client, dial) {
  client.setNoDelay(true);
  const upstream = dial();
  upstream.setNoDelay?.(true);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close).on("close", close);
  upstream.on("error", close).on("close", close);
  client.pipe(upstream);
  upstream.pipe(client);
}

// The workload gets SIGTERM from the agent (it signals the whole process group); the bridge keeps
// relaying until the sandbox ends with the workload, so in-flight requests can drain.
process.on("SIGTERM", () => {});
process.on("SIGINT", () => {});

// The sandbox's init waits for every process before it ends (and reports the workload's exit
// code): leave once the workload — our parent, which exec'd itself from the launching shell — is gone.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 100);

if (mode === "serve-fd") {
  const port = Number(b);
  createServer({ pauseOnConnect: false }, (c) => relay(c, () => connect({ host: "127.0.0.1", port })))
    .on("error", (err) => {
      console.error(`ctrl sandbox bridge: ${err.message}`);
      process.exit(1);
    })
    .listen({ fd: Number(a) });
} else if (mode === "forward") {
  const path = b;
  createServer((c) => relay(c, () => connect({ path })))
    .on("error", (err) => {
      console.error(`ctrl sandbox bridge: ${err.message}`);
      process.exit(1);
    })
    .listen({ host: "127.0.0.1", port: Number(a) }, () => {
      if (ready) writeFileSync(ready, "");
    });
} else {
  console.error(`ctrl sandbox bridge: unknown mode ${mode}`);
  process.exit(2);
}
