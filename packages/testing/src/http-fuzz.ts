/**
 * Raw-socket HTTP/1.1 abuse for the servers' robustness tests: seeded, bounded random and malformed
 * requests (request lines, paths, percent-encoding, headers, framing), and oversized bodies streamed
 * without holding them in memory, with the peak RSS growth of this process while they are sent.
 */
import { connect } from "node:net";

/** A small, fast seeded PRNG (mulberry32): the same seed gives the same requests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What to aim the fuzzer at. */
export interface FuzzTarget {
  /** Host header values to use (a routed host, `localhost`, …); random ones are added. */
  hosts?: string[];
  /** Paths the server really serves, mutated and sent alongside the generic malformed ones. */
  paths?: string[];
  /** Extra header lines (`name: value`) sometimes added, e.g. a header a proxy routes by. */
  headers?: string[];
}

const methods = [
  "GET",
  "GET",
  "GET",
  "POST",
  "POST",
  "HEAD",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
  "CONNECT",
  "TRACE",
  "PRI",
  "get",
  "G ET",
  "GE\0T",
  "BREW",
  "M".repeat(300),
  "",
];
const genericTargets = [
  "/",
  "//",
  "///",
  "////x",
  "//health",
  "/health/",
  "/?",
  "/#frag",
  "?",
  "#",
  "",
  " ",
  "*",
  "/*",
  "/%",
  "/%%",
  "/%zz",
  "/%E0%A4%A",
  "/%C0%AF",
  "/%00",
  "/%ff%fe",
  "/a%",
  "/%2",
  "/%25%",
  "/..",
  "/../",
  "/../../etc/passwd",
  "/%2e%2e/%2e%2e/etc/passwd",
  "/..%2f..%2f",
  "/./././",
  "/a/../../b",
  "..",
  "../x",
  "\\",
  "\\\\evil",
  "/\\..\\..\\",
  "//evil.example/x",
  "//evil.example:1/%2e%2e",
  "http://evil.example/",
  "http://evil.example/health",
  "https://x/",
  "http://[::1]:99999/",
  "http://",
  "http:///",
  "mailto:x",
  "localhost:80",
  "/?a=%&b=%zz&&&=",
  "/?lines=-1",
  "/?lines=1e99",
  "/?lines=%",
  "/?" + "q=".repeat(2000),
  "/\u00e9\u00e8",
  "/\ud83d\ude00",
  "/a\tb",
  "/a\u000bb",
  "/a\u007fb",
];
const versions = [
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.0",
  "HTTP/0.9",
  "HTTP/2.0",
  "HTTP/9.9",
  "HTTP/1.",
  "http/1.1",
  "HTTP/11.1",
  "HTTP/1.1 x",
  "",
];
const headerAbuse = [
  "Content-Length: -1",
  "Content-Length: 1, 2",
  "Content-Length: 99999999999999999999",
  "Content-Length: abc",
  "Content-Length: 5\r\nContent-Length: 6",
  "Transfer-Encoding: chunked",
  "Transfer-Encoding: gzip, chunked",
  "Transfer-Encoding: chunked\r\nContent-Length: 3",
  "Transfer-Encoding: x",
  "Expect: 100-continue",
  "Connection: upgrade\r\nUpgrade: websocket",
  "Upgrade: h2c",
  "Connection: close",
  "Authorization: Bearer ",
  "Authorization: Bearer x",
  "Authorization: Basic Zm9vOmJhcg==",
  "Authorization: " + "B".repeat(5000),
  "Content-Type: application/json",
  "Content-Type: application/proto",
  "Content-Type: application/grpc",
  "Content-Type: application/connect+json",
  "Content-Type: \u0000",
  "Content-Encoding: gzip",
  "Connect-Protocol-Version: 1",
  "Accept-Encoding: br, gzip",
  "NoColonHere",
  " Leading: space",
  "Bad Name: x",
  "X: \u0001\u0002",
  "X-Fold: a\r\n folded",
  ":: :",
  "X-Empty:",
  "Host: second.example",
  "X-Forwarded-For: 1.2.3.4, ::1, evil",
  "X-Forwarded-Host: evil.example",
  "X-Request-Id: ../../etc",
];
const bodies = [
  "",
  "{",
  "{}",
  "[]",
  "null",
  '{"a":',
  "\u0000\u0001\u0002\u00ff",
  "0\r\n\r\n",
  "zz\r\nxx\r\n",
  "5\r\nhello\r\n0\r\n\r\n",
  "ffffffffffffffff\r\n",
  '{"projectId":' + "[".repeat(5000),
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function randomBytes(rand: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** Changes a path a little: a doubled slash, a stray `%`, a `..`, a random byte, a huge suffix. */
function mutatePath(rand: () => number, path: string): string {
  const at = Math.floor(rand() * (path.length + 1));
  const insert = pick(rand, [
    "/",
    "//",
    "%",
    "%zz",
    "/..",
    "/../..",
    "?",
    "#",
    "\\",
    ";",
    "%2F",
    "%00",
    String.fromCharCode(Math.floor(rand() * 256)),
    "x".repeat(Math.floor(rand() * 9000)),
  ]);
  return path.slice(0, at) + insert + path.slice(at);
}

/**
 * `count` raw requests from `seed`: mostly HTTP-shaped with one or more malformed parts, some
 * well-formed (so the servers' own routing and parsing run, not only Node's parser), some pure noise.
 * Huge-header and long-URI cases are included (Node answers those 431 or 400).
 */
export function fuzzRequests(seed: number, count: number, target: FuzzTarget = {}): Buffer[] {
  const rand = seededRandom(seed);
  const hosts = [
    ...(target.hosts ?? []),
    ...(target.hosts ?? []),
    "localhost",
    "",
    "a..b",
    "[::1",
    "x".repeat(300),
    "evil.example:99999",
    "\u00e9.example",
    "127.0.0.1:1",
  ];
  const paths = target.paths ?? [];
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const r = rand();
    if (r < 0.08) {
      out.push(randomBytes(rand, Math.floor(rand() * 3000)));
      continue;
    }
    // About half the requests are well-formed HTTP (so the server's own routing and parsing run,
    // not only Node's parser) with a strange target; the rest break one or two parts on purpose.
    const broken = new Set<string>();
    if (rand() < 0.5)
      for (let k = 1 + Math.floor(rand() * 2); k > 0; k--)
        broken.add(pick(rand, ["eol", "method", "version", "headers", "huge", "framing", "spacing"]));
    const eol = broken.has("eol") ? pick(rand, ["\n", "\r", "\n\r", "\r\r\n"]) : "\r\n";
    const method = broken.has("method")
      ? pick(rand, methods)
      : pick(rand, ["GET", "GET", "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"]);
    const base = paths.length > 0 && rand() < 0.5 ? pick(rand, paths) : pick(rand, genericTargets);
    const path = rand() < 0.4 ? mutatePath(rand, base) : base;
    const version = broken.has("version") ? pick(rand, versions) : rand() < 0.9 ? "HTTP/1.1" : "HTTP/1.0";
    const lines = [broken.has("spacing") ? `${method}  ${path}  ${version}` : `${method} ${path} ${version}`];
    if (rand() < 0.95) lines.push(`Host: ${rand() < 0.7 ? pick(rand, target.hosts ?? ["localhost"]) : pick(rand, hosts)}`);
    if (target.headers && rand() < 0.5) lines.push(pick(rand, target.headers));
    if (broken.has("headers")) for (let h = 1 + Math.floor(rand() * 3); h > 0; h--) lines.push(pick(rand, headerAbuse));
    if (broken.has("huge")) {
      if (rand() < 0.5) lines.push(`X-Huge: ${"h".repeat(20_000 + Math.floor(rand() * 50_000))}`);
      else for (let h = 0; h < 3000; h++) lines.push(`X-Many-${h}: ${h}`);
    }
    let body = rand() < 0.3 ? pick(rand, bodies) : "";
    if (rand() < 0.05) body = randomBytes(rand, Math.floor(rand() * 4000)).toString("latin1");
    const bodyBuf = Buffer.from(body, "latin1");
    if (bodyBuf.length > 0 || broken.has("framing"))
      lines.push(`Content-Length: ${broken.has("framing") ? Math.floor(rand() * 10_000) : bodyBuf.length}`);
    const head = lines.join(eol) + eol + (broken.has("framing") && rand() < 0.3 ? "" : eol);
    out.push(Buffer.concat([Buffer.from(head, "latin1"), bodyBuf]));
  }
  return out;
}

/** One raw exchange: the reply bytes (up to 64 KiB kept), or `timedOut` when the server never closed. */
export interface RawReply {
  bytes: Buffer;
  /** The status of the first response, undefined when the reply is empty or not HTTP. */
  status: number | undefined;
  timedOut: boolean;
}

/** True once `bytes` hold one complete final (non-1xx) response: headers plus a Content-Length or chunked body. */
function completeResponse(bytes: Buffer): boolean {
  let text = bytes.toString("latin1");
  for (;;) {
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return false;
    const head = text.slice(0, end);
    if (/^HTTP\/1\.[01] 1\d\d/.test(head)) {
      text = text.slice(end + 4); // 100 Continue: the real answer follows
      continue;
    }
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length) return text.length >= end + 4 + Number(length[1]);
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) return text.endsWith("0\r\n\r\n");
    return false;
  }
}

/**
 * Writes `request` to a fresh connection and collects the reply until it is complete or the server
 * closes. When the server stays silent for `quietMs` (a truncated request it is waiting on), the
 * connection is half-closed so the server sees the end — not at once, which makes Node abort a
 * request still being answered asynchronously.
 */
export function rawExchange(
  port: number,
  request: Buffer,
  { host = "127.0.0.1", timeoutMs = 10_000, quietMs = 250 } = {},
): Promise<RawReply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let done = false;
    const socket = connect({ host, port });
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(quiet);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(bytes.subarray(0, 32).toString("latin1"));
      resolve({ bytes, status: m ? Number(m[1]) : undefined, timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    let quiet: NodeJS.Timeout | undefined;
    const armQuiet = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => socket.end(), quietMs);
    };
    socket.on("data", (chunk: Buffer) => {
      if (kept < 65_536) {
        chunks.push(chunk);
        kept += chunk.length;
      }
      if (completeResponse(Buffer.concat(chunks))) return finish(false);
      armQuiet();
    });
    socket.on("error", () => {}); // a reset after the server answered (or refused) is fine: `close` follows
    socket.on("close", () => finish(false));
    socket.on("connect", () => {
      socket.write(request);
      armQuiet();
    });
  });
}

/** Sends every request (`concurrency` at a time) and returns the replies in order. */
export async function fireRequests(port: number, requests: Buffer[], { concurrency = 16, timeoutMs = 10_000 } = {}): Promise<RawReply[]> {
  const replies: RawReply[] = new Array(requests.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const i = next++;
        replies[i] = await rawExchange(port, requests[i]!, { timeoutMs });
      }
    }),
  );
  return replies;
}

/** A tally of replies by status (`none` for an empty or non-HTTP reply, `timeout`), for assertions and messages. */
export function tallyReplies(replies: RawReply[]): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const r of replies) {
    const key = r.timedOut ? "timeout" : r.status === undefined ? (r.bytes.length === 0 ? "none" : "garbage") : String(r.status);
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}

/** Options of {@link sendLargeBody}. */
export interface LargeBodyOptions {
  port: number;
  method?: string;
  path: string;
  /** Header lines (`name: value`) besides Host and the framing header. */
  headers?: string[];
  /** Total bytes offered (the body is produced from one repeated chunk, never held whole). */
  totalBytes: number;
  /** Declare `Content-Length: totalBytes` (default) or send `Transfer-Encoding: chunked`. */
  framing?: "content-length" | "chunked";
  /** The repeated chunk (default 64 KiB of `a`). */
  chunk?: Buffer;
  timeoutMs?: number;
}

/** What {@link sendLargeBody} saw. */
export interface LargeBodyResult {
  status: number | undefined;
  /** The reply (headers and body) as text, up to 64 KiB. */
  reply: string;
  /** Body bytes this side wrote before the server answered or closed. */
  bytesWritten: number;
  /** The largest growth of this process's RSS over its value before sending, sampled every 5 ms. */
  peakRssGrowth: number;
}

/**
 * Streams a large body to `path` and stops as soon as the server answers (or closes), measuring this
 * process's peak RSS growth meanwhile: with the server in-process, that bounds what it buffered.
 */
export function sendLargeBody(options: LargeBodyOptions): Promise<LargeBodyResult> {
  const chunk = options.chunk ?? Buffer.alloc(64 * 1024, "a");
  const chunked = options.framing === "chunked";
  const head = [
    `${options.method ?? "POST"} ${options.path} HTTP/1.1`,
    ...((options.headers ?? []).some((h) => /^host:/i.test(h)) ? [] : ["Host: localhost"]),
    ...(options.headers ?? []),
    chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${options.totalBytes}`,
    "",
    "",
  ].join("\r\n");
  const chunkHead = Buffer.from(`${chunk.length.toString(16)}\r\n`);
  const crlf = Buffer.from("\r\n");
  return new Promise((resolve) => {
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const received: Buffer[] = [];
    let answered = false;
    let bytesWritten = 0;
    let done = false;
    const socket = connect({ host: "127.0.0.1", port: options.port });
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(sampler);
      clearTimeout(timer);
      socket.destroy();
      peak = Math.max(peak, process.memoryUsage.rss());
      const reply = Buffer.concat(received).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(reply);
      resolve({ status: m ? Number(m[1]) : undefined, reply, bytesWritten, peakRssGrowth: peak - baseline });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 30_000);
    const pump = () => {
      while (!answered && !socket.destroyed && bytesWritten < options.totalBytes) {
        bytesWritten += chunk.length;
        const ok = chunked ? (socket.write(chunkHead), socket.write(chunk), socket.write(crlf)) : socket.write(chunk);
        if (!ok) return void socket.once("drain", pump);
      }
      if (!answered && !socket.destroyed && chunked) socket.write("0\r\n\r\n");
    };
    socket.on("data", (data: Buffer) => {
      answered = true;
      received.push(data);
      // The whole reply is in once its body is: stop at the first response (headers and a short body).
      const text = Buffer.concat(received).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (length && text.length >= end + 4 + Number(length[1])) finish();
      if (!length && /\r\ntransfer-encoding: *chunked/i.test(text.slice(0, end)) && text.endsWith("0\r\n\r\n")) finish();
    });
    socket.on("error", () => {});
    socket.on("close", finish);
    socket.on("connect", () => {
      socket.write(head);
      pump();
    });
  });
}
