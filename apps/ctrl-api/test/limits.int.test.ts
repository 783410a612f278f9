// Long because the input-limit cases share one stack; each case is a few lines.
/**
 * Bounded input on ctrl-api, against a real MariaDB and both listeners (HTTP/1.1 and h2c).
 * Guarantees:
 * - a Connect request body over 1 MiB is `resource_exhausted` — declared by Content-Length or grown
 *   in chunks, unary or server-streaming, Connect or gRPC — before any credential is looked up (the
 *   database sees no query), and without buffering it (RSS grows by far less than the 20 MB sent);
 * - bytes that are not a message are `invalid_argument` (binary and JSON, Connect and gRPC), not `internal`;
 * - an undeclared enum number is `invalid_argument` naming the field, also nested in a list;
 * - a 64-bit integer beyond 2^53-1 is `invalid_argument` naming the field; one within goes through;
 * - /v2: bad JSON → 400 with `errors[]`, oversized → 413 envelope, both before authentication;
 * - a few thousand seeded malformed requests get no 5xx and the server still answers /health.
 */
import { connect as connectHttp2, constants as h2, type Http2Session } from "node:http2";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import {
  ClusterService,
  DeploymentService,
  DomainService,
  type ChallengeType,
  type ReportDeploymentStatusRequest_Update_Instance_Status as Status,
  type ReportSentinelStatusRequest_Health,
} from "@ctrl/proto";
import { fireRequests, fuzzRequests, sendLargeBody, tallyReplies } from "@ctrl/testing";
import type { FastifyInstance } from "fastify";
import type { KyselyPlugin } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../src/server.js";
import { startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
let http1: FastifyInstance;
let grpc: FastifyInstance;
let http1Port: number;
let apiUrl: string;
let grpcUrl: string;
/** Every query the servers under test sent to MariaDB. */
let queries = 0;
const sessions = new Set<Http2Session>();

const countQueries: KyselyPlugin = {
  transformQuery: (args) => {
    queries++;
    return args.node;
  },
  transformResult: async (args) => args.result,
};

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  const deps = { ...stack.deps, db: stack.deps.db.withPlugin(countQueries) };
  http1 = await buildServer(deps);
  await http1.listen({ port: 0, host: "127.0.0.1" });
  grpc = await buildServer(deps, { http2: true });
  grpc.server.on("session", (session: Http2Session) => sessions.add(session));
  await grpc.listen({ port: 0, host: "127.0.0.1" });
  http1Port = (http1.server.address() as { port: number }).port;
  apiUrl = `http://127.0.0.1:${http1Port}`;
  grpcUrl = `http://127.0.0.1:${(grpc.server.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  // A gRPC client refused mid-upload stays blocked by flow control with its stream open (bounded by
  // one window); end those sessions so close() does not wait for them.
  for (const session of sessions) session.destroy();
  await Promise.allSettled([http1?.close(), grpc?.close()]);
  await stack?.close();
});

const bogus = { headers: { authorization: "Bearer not-a-real-token-but-well-formed" } };
const mib = 1024 * 1024;

/** The ConnectError a call fails with (fails the test when it succeeds). */
async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail, it succeeded");
}

/** Runs `fn` and asserts the servers sent MariaDB nothing meanwhile. */
async function withoutQueries<T>(fn: () => Promise<T>): Promise<T> {
  const before = queries;
  const result = await fn();
  expect(queries - before, "database queries").toBe(0);
  return result;
}

const transports = (): Record<string, Transport> => ({
  "connect binary": createConnectTransport({ baseUrl: apiUrl, httpVersion: "1.1", useBinaryFormat: true }),
  "connect JSON": createConnectTransport({ baseUrl: apiUrl, httpVersion: "1.1" }),
  "gRPC (h2c)": createGrpcTransport({ baseUrl: grpcUrl }),
});

describe("read limit: 1 MiB, before auth and parsing", () => {
  it("the counter sees a query a bad token causes (so zero below means auth never ran)", async () => {
    const before = queries;
    const err = await failure(createClient(DeploymentService, transports()["connect JSON"]!).getDeployment({ deploymentId: "d_x" }, bogus));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(queries).toBeGreaterThan(before);
  });

  it.each(["connect binary", "connect JSON", "gRPC (h2c)"])("unary over %s: resource_exhausted, no query", async (name) => {
    const client = createClient(DeploymentService, transports()[name]!);
    const err = await withoutQueries(() =>
      failure(client.createDeployment({ projectId: "proj_x", branch: "b".repeat(2 * mib), environmentSlug: "production" }, bogus)),
    );
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toMatch(/readMaxBytes/);
  });

  it.each(["connect binary", "gRPC (h2c)"])("server-streaming WatchDeployments over %s: resource_exhausted, no query", async (name) => {
    const client = createClient(ClusterService, transports()[name]!);
    const err = await withoutQueries(() =>
      failure(
        (async () => {
          for await (const _ of client.watchDeployments({ region: "r".repeat(2 * mib) }, bogus)) break;
        })(),
      ),
    );
    expect(err.code).toBe(Code.ResourceExhausted);
  });

  it.each(["content-length", "chunked"] as const)(
    "a 20 MB JSON body (%s, bad token) is refused with 429 without being buffered",
    async (framing) => {
      const result = await withoutQueries(() =>
        sendLargeBody({
          port: http1Port,
          path: "/ctrl.v1.DeploymentService/CreateDeployment",
          headers: ["Content-Type: application/json", "Authorization: Bearer not-a-real-token-but-well-formed"],
          totalBytes: 20 * mib,
          framing,
          chunk: Buffer.alloc(64 * 1024, " "),
        }),
      );
      expect(result.status, result.reply).toBe(429);
      expect(result.reply).toContain('"code":"resource_exhausted"');
      expect(result.peakRssGrowth).toBeLessThan(8 * mib);
    },
  );

  it("a body within the limit is read and reaches auth", async () => {
    const err = await failure(
      createClient(DeploymentService, transports()["connect binary"]!).createDeployment(
        { projectId: "proj_x", branch: "b".repeat(512 * 1024), environmentSlug: "production" },
        bogus,
      ),
    );
    expect(err.code).toBe(Code.Unauthenticated);
  });
});

describe("malformed messages are invalid_argument", () => {
  it("binary garbage over Connect", async () => {
    const res = await withoutQueries(() =>
      fetch(`${apiUrl}/ctrl.v1.DeploymentService/GetDeployment`, {
        method: "POST",
        headers: { "content-type": "application/proto" },
        body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/parse binary/) });
  });

  it("broken and unknown-field JSON over Connect", async () => {
    for (const body of ["{", '{"deploymentId": 5}', '{"noSuchField": "x"}', "\u0000\u00ff"]) {
      const res = await fetch(`${apiUrl}/ctrl.v1.DeploymentService/GetDeployment`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(res.status, body).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_argument" });
    }
  });

  it("binary garbage over gRPC (h2c)", async () => {
    const session = connectHttp2(grpcUrl);
    try {
      const trailers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = session.request({
          [h2.HTTP2_HEADER_METHOD]: "POST",
          [h2.HTTP2_HEADER_PATH]: "/ctrl.v1.DeploymentService/GetDeployment",
          "content-type": "application/grpc",
          te: "trailers",
        });
        req.on("trailers", (t) => resolve(t));
        req.on("response", (headers) => {
          if (headers["grpc-status"] !== undefined) resolve(headers); // trailers-only response
        });
        req.on("error", reject);
        req.resume();
        const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        const envelope = Buffer.alloc(5);
        envelope.writeUInt32BE(garbage.length, 1);
        req.end(Buffer.concat([envelope, garbage]));
      });
      expect(trailers["grpc-status"]).toBe(String(Code.InvalidArgument));
    } finally {
      session.close();
    }
  });

  it.each(["connect binary", "connect JSON", "gRPC (h2c)"])(
    "an undeclared enum number over %s names the field, before auth",
    async (name) => {
      const cluster = createClient(ClusterService, transports()[name]!);
      const top = await withoutQueries(() =>
        failure(cluster.reportSentinelStatus({ k8sName: "s", health: 99 as ReportSentinelStatusRequest_Health }, bogus)),
      );
      expect(top.code).toBe(Code.InvalidArgument);
      expect(top.rawMessage).toMatch(/health: 99 is not a value of ctrl\.v1\.ReportSentinelStatusRequest\.Health/);
      const nested = await failure(
        cluster.reportDeploymentStatus(
          { change: { case: "update", value: { k8sName: "d", instances: [{ k8sName: "i", status: 42 as Status }] } } },
          bogus,
        ),
      );
      expect(nested.code).toBe(Code.InvalidArgument);
      expect(nested.rawMessage).toMatch(/update\.instances\[0\]\.status: 42/);
      const domain = await failure(
        createClient(DomainService, transports()[name]!).addCustomDomain(
          { projectId: "p", environmentSlug: "e", domain: "x.example", challengeType: 7 as ChallengeType },
          bogus,
        ),
      );
      expect(domain.rawMessage).toMatch(/challenge_type: 7/);
    },
  );

  it("an unknown enum name in JSON is invalid_argument", async () => {
    const res = await fetch(`${apiUrl}/ctrl.v1.ClusterService/ReportSentinelStatus`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"health":"HEALTH_SPLENDID"}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument" });
  });
});

describe("int64 without loss", () => {
  it.each(["connect binary", "gRPC (h2c)"])("after_seq = 2^60 over %s is refused naming the field", async (name) => {
    const err = await withoutQueries(() =>
      failure(createClient(DeploymentService, transports()[name]!).getDeploymentLogs({ deploymentId: "d_x", afterSeq: 2n ** 60n }, bogus)),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/after_seq: 1152921504606846976 is beyond/);
  });

  it.each([
    ['"9007199254740993"', /after_seq: 9007199254740993 is beyond/],
    ["9007199254740993", /after_seq: 9007199254740992 is beyond/],
    ['"-9223372036854775808"', /after_seq: -9223372036854775808 is beyond/],
  ])("JSON after_seq %s is refused, not rounded", async (value, message) => {
    const res = await fetch(`${apiUrl}/ctrl.v1.DeploymentService/GetDeploymentLogs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"deploymentId":"d_x","afterSeq":${value}}`,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(message);
  });

  it("2^53-1 passes the check and reaches the handler", async () => {
    const res = await fetch(`${apiUrl}/ctrl.v1.DeploymentService/GetDeploymentLogs`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.operatorToken}` },
      body: '{"deploymentId":"d_missing","afterSeq":"9007199254740991"}',
    });
    expect(((await res.json()) as { code: string }).code).toBe("not_found");
  });
});

describe("/v2 bodies", () => {
  it.each(['{"deploymentId":', "[", "\u0000\u00ff", ""])("bad JSON %j → 400 with errors[] in the envelope", async (raw) => {
    const res = await fetch(`${apiUrl}/v2/deploy.getDeployment`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.seed.rootKey}` },
      body: raw,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      meta: { requestId: string };
      error: { status: number; errors: { location: string; message: string }[] };
    };
    expect(body.error.status).toBe(400);
    expect(body.error.errors.length).toBeGreaterThan(0);
    expect(body.error.errors[0]!.location).toMatch(/^body/);
    expect(body.meta.requestId).toBeTruthy();
  });

  it.each(["content-length", "chunked"] as const)("a 20 MB body (%s, no auth) → 413 envelope, no query, not buffered", async (framing) => {
    const result = await withoutQueries(() =>
      sendLargeBody({
        port: http1Port,
        path: "/v2/deploy.createDeployment",
        headers: ["Content-Type: application/json"],
        totalBytes: 20 * mib,
        framing,
      }),
    );
    expect(result.status, result.reply).toBe(413);
    const json = JSON.parse(
      result.reply
        .slice(result.reply.indexOf("\r\n\r\n") + 4)
        .replace(/^[0-9a-f]+\r\n/, "")
        .replace(/\r\n0\r\n\r\n$/, ""),
    ) as { meta: { requestId: string }; error: { status: number; errors: unknown[] } };
    expect(json.error.status).toBe(413);
    expect(json.error.errors).toEqual([{ location: "body", message: "too large" }]);
    expect(json.meta.requestId).toBeTruthy();
    expect(result.peakRssGrowth).toBeLessThan(8 * mib);
  });
});

describe("seeded fuzz of the HTTP/1.1 listener", () => {
  it("2000 malformed requests: no 5xx, /health still answers", { timeout: 120_000 }, async () => {
    const requests = fuzzRequests(0x63746c61, 2000, {
      hosts: ["localhost", "127.0.0.1"],
      paths: [
        "/health",
        "/ctrl.v1.CtrlService/Liveness",
        "/ctrl.v1.DeploymentService/GetDeployment",
        "/ctrl.v1.ClusterService/WatchDeployments",
        "/v2/deploy.getDeployment",
        "/v2/deploy.createDeployment",
      ],
      headers: [
        "Content-Type: application/json",
        "Content-Type: application/proto",
        "Content-Type: application/connect+proto",
        "Authorization: Bearer fuzz-not-a-token",
      ],
    });
    const replies = await fireRequests(http1Port, requests);
    const tally = tallyReplies(replies);
    const bad = replies.flatMap((r, i) =>
      (r.status !== undefined && r.status >= 500) || r.timedOut || (r.status === undefined && r.bytes.length > 0)
        ? [{ i, request: requests[i]!.subarray(0, 300).toString("latin1"), reply: r.bytes.subarray(0, 300).toString("latin1") }]
        : [],
    );
    expect(bad, JSON.stringify(tally)).toEqual([]);
    expect((tally["200"] ?? 0) + (tally["404"] ?? 0), JSON.stringify(tally)).toBeGreaterThan(100);
    const health = await fetch(`${apiUrl}/health`);
    expect(health.status).toBe(200);
  });
});
