import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { ScalarType, type DescEnum, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Http2ServerRequest, type Http2ServerResponse } from "node:http2";

/**
 * The most bytes one Connect request message may have (also the fastify body limit). Connect checks
 * it while reading — a declared Content-Length above it is refused before a byte is read, a chunked
 * body is cut off as it grows past it — so nothing bigger is ever buffered or parsed. Every ctrl.v1
 * request is far below it (a full ReportDeploymentStatus of a thousand instances is ~100 KiB).
 */
export const readMaxBytes = 1024 * 1024;

const int64Types = new Set([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);
const maxExact = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * What is wrong with a parsed request message, or undefined when nothing is: an enum field holding a
 * number its enum does not declare (proto3 enums are open, so the parsers keep such values), or a
 * 64-bit integer beyond ±(2^53-1). ctrl stores and compares those as JS numbers (Unix ms, versions,
 * sequence numbers, sizes), so a larger value could only be rounded silently; it is refused instead.
 * The problem names the field by its path (`update.instances[0].status`).
 */
export function requestMessageProblem(schema: DescMessage, message: Message): string | undefined {
  return messageProblem(reflect(schema, message), "");
}

function messageProblem(msg: ReflectMessage, prefix: string): string | undefined {
  for (const field of msg.fields) {
    if (!msg.isSet(field)) continue;
    const path = `${prefix}${field.name}`;
    const problem = fieldProblem(msg, field, path);
    if (problem) return problem;
  }
  return undefined;
}

function fieldProblem(msg: ReflectMessage, field: DescField, path: string): string | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return scalarProblem(field.scalar, msg.get(field), path);
    case "enum":
      return enumProblem(field.enum, msg.get(field), path);
    case "message":
      return messageProblem(msg.get(field), `${path}.`);
    case "list": {
      let i = 0;
      for (const item of msg.get(field)) {
        const at = `${path}[${i++}]`;
        const problem =
          field.listKind === "scalar"
            ? scalarProblem(field.scalar, item, at)
            : field.listKind === "enum"
              ? enumProblem(field.enum, item, at)
              : messageProblem(item as ReflectMessage, `${at}.`);
        if (problem) return problem;
      }
      return undefined;
    }
    case "map": {
      for (const [key, value] of msg.get(field)) {
        const at = `${path}[${String(key)}]`;
        const problem =
          field.mapKind === "scalar"
            ? scalarProblem(field.scalar, value, at)
            : field.mapKind === "enum"
              ? enumProblem(field.enum, value, at)
              : messageProblem(value as ReflectMessage, `${at}.`);
        if (problem) return problem;
      }
      return undefined;
    }
  }
}

function scalarProblem(type: ScalarType, value: unknown, path: string): string | undefined {
  if (!int64Types.has(type)) return undefined;
  const n = typeof value === "bigint" ? value : BigInt(value as string | number);
  if (n > maxExact || n < -maxExact)
    return `${path}: ${n} is beyond ±${maxExact} (2^53-1), the largest integer ctrl keeps exactly; send a smaller value`;
  return undefined;
}

function enumProblem(desc: DescEnum, value: unknown, path: string): string | undefined {
  if (desc.values.some((v) => v.number === value)) return undefined;
  const known = desc.values.map((v) => `${v.name}=${v.number}`).join(", ");
  return `${path}: ${String(value)} is not a value of ${desc.typeName} (one of ${known})`;
}

/**
 * Checks every request message before anything else sees it (put it first, before auth): unknown
 * enum numbers and inexact 64-bit integers are `invalid_argument` naming the field. A server-streaming
 * request is read (under the same read limit) and checked here too, so no stream starts — and no
 * credential is looked up — for a request that is too big or malformed; connect would otherwise run
 * the interceptors of a stream before reading its request.
 */
export function boundedInputInterceptor(): Interceptor {
  const check = (schema: DescMessage, message: Message) => {
    const problem = requestMessageProblem(schema, message);
    if (problem) throw new ConnectError(`invalid ${schema.typeName}: ${problem}`, Code.InvalidArgument);
  };
  return (next) => async (req) => {
    if (!req.stream) {
      check(req.method.input, req.message);
      return next(req);
    }
    if (req.method.methodKind !== "server_streaming")
      throw new ConnectError(`${req.method.name}: client streaming is not served`, Code.Unimplemented);
    const it = req.message[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new ConnectError(`${req.method.name}: the request message is missing`, Code.InvalidArgument);
    const second = await it.next();
    if (!second.done) throw new ConnectError(`${req.method.name}: send exactly one request message`, Code.InvalidArgument);
    check(req.method.input, first.value);
    return next({ ...req, message: createAsyncIterable([first.value]) });
  };
}

/** The parts of a Node HTTP/1.1 or HTTP/2 request {@link requestFramingProblem} looks at. */
export interface RawRequestLike {
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** HTTP/2 only: the `:authority` pseudo-header. */
  authority?: string;
}

/**
 * What is wrong with a request's target or authority, or undefined: connect's Node adapter builds
 * `new URL(path, "http://" + host)` for every RPC and, when that throws (no Host, `Host: [::1`,
 * `Host: é`), gives up without answering, leaving the connection hanging. Checked first, answered 400.
 */
export function requestFramingProblem(req: RawRequestLike): string | undefined {
  const authority = req.authority ?? (typeof req.headers.host === "string" ? req.headers.host : undefined);
  if (!authority) return "missing Host header: send the server's host name";
  if (!URL.canParse(req.url ?? "", `http://${authority}`))
    return "malformed Host header or request target: send `Host: <name[:port]>` and an origin-form path";
  return undefined;
}

/**
 * HTTP/1.1: a request answered before its body was fully read (a body over the limit, a refused
 * upload, a stream whose request was refused) does not keep its connection.
 * Otherwise Node drains the rest of the body to reuse the connection — megabytes read for nothing —
 * and a client that stops sending mid-body on an early answer (connect-node does) leaves both sides
 * waiting until a timeout, which also holds up a graceful shutdown.
 */
export function closeAfterUnreadBody(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  // HTTP/2: flow control bounds what a refused stream can push (one window), and closing a stream
  // early loses the gRPC trailers carrying the error, so streams are left to the client to end.
  if (req instanceof Http2ServerRequest) return;
  const http1 = res as ServerResponse;
  // Say so in the answer, so the client does not reuse the connection.
  const writeHead = http1.writeHead;
  http1.writeHead = function (this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    if (statusCode >= 400 && !req.complete && !this.headersSent) this.setHeader("connection", "close");
    return (writeHead as (...args: unknown[]) => ServerResponse).call(this, statusCode, ...rest);
  } as ServerResponse["writeHead"];
  // Errors inside a stream leave with status 200; end the connection once the answer is flushed.
  const socket = req.socket;
  http1.once("finish", () => {
    if (!req.complete && !socket.destroyed) socket.destroySoon();
  });
}
