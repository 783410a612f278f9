/**
 * followDeployment against a real Connect server (HTTP/1.1, connect-node) whose WatchDeployment
 * stream breaks off before the deployment finishes: the CLI reconnects, prints each step once
 * (the server repeats them after a reconnect), prints the build log, and returns the final state.
 * The server is a scripted DeploymentService: what is under test is the client's behaviour.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { DeploymentSchema, DeploymentService, DeploymentStatus } from "@ctrl/proto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentClient } from "../src/client.js";
import { followDeployment } from "../src/follow.js";
import type { Output } from "../src/output.js";

let server: http.Server;
let url: string;
let watchCalls = 0;
/** When set, every stream ends before the deployment finishes. */
let neverFinish = false;
const authHeaders: (string | undefined)[] = [];

const step = (name: string, status: string, message: string) => ({
  step: name,
  status,
  message,
  createdAt: 1000n,
  endedAt: status === "running" ? 0n : 2000n,
});

function routes(router: ConnectRouter) {
  router.service(DeploymentService, {
    async *watchDeployment(_req, ctx) {
      authHeaders.push(ctx.requestHeader.get("authorization") ?? undefined);
      watchCalls++;
      yield { status: DeploymentStatus.BUILDING };
      yield { status: DeploymentStatus.BUILDING, step: step("build:fetch", "completed", "downloaded") };
      if (watchCalls === 1 || neverFinish) return; // the stream ends early, as when ctrl-api restarts
      yield { status: DeploymentStatus.BUILDING, step: step("build:compile", "completed", "npm run build succeeded") };
      yield { status: DeploymentStatus.READY, hostnames: ["app.ctrl.localhost"] };
    },
    async getDeploymentLogs(req) {
      const lines = [{ seq: 1n, step: "build:compile", line: "compiled 3 files", createdAt: 1n }].filter((l) => l.seq > req.afterSeq);
      return { lines, nextSeq: lines.at(-1)?.seq ?? req.afterSeq, status: DeploymentStatus.READY };
    },
    async getDeployment(req) {
      if (req.deploymentId !== "d_1") throw new ConnectError("not found", Code.NotFound);
      return { deployment: create(DeploymentSchema, { id: "d_1", status: DeploymentStatus.READY, hostnames: ["app.ctrl.localhost"] }) };
    },
  });
}

beforeAll(async () => {
  server = http.createServer(connectNodeAdapter({ routes }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function captureOutput(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { json: false, lines, info: (l) => lines.push(l), result: () => undefined, stdout: process.stdout, stderr: process.stderr };
}

describe("followDeployment", () => {
  it("reconnects a stream that ended early and prints each step once", async () => {
    const out = captureOutput();
    const final = await followDeployment(deploymentClient({ apiUrl: url, rootKey: "ctrl_test" }), "d_1", out, {
      timeoutMs: 30_000,
      logPollMs: 20,
    });
    expect(final.status).toBe(DeploymentStatus.READY);
    expect(watchCalls).toBe(2);
    expect(authHeaders).toEqual(["Bearer ctrl_test", "Bearer ctrl_test"]);
    expect(out.lines.filter((l) => l.includes("build:fetch"))).toHaveLength(1);
    expect(out.lines.filter((l) => l.includes("build:compile"))).toHaveLength(1);
    expect(out.lines).toContain("→ READY");
    expect(out.lines).toContain("    │ compiled 3 files");
    expect(out.lines.filter((l) => l.includes("compiled 3 files"))).toHaveLength(1);
  });

  it("gives up after the timeout, saying the deployment goes on", async () => {
    neverFinish = true;
    const out = captureOutput();
    await expect(
      followDeployment(deploymentClient({ apiUrl: url, rootKey: "k" }), "d_1", out, { timeoutMs: 800, logPollMs: 20 }),
    ).rejects.toThrow(/stopped following after 1 s; the deployment goes on — check it with `ctrl status d_1`/);
  });
});
