import { bodies, genericTargets, headerAbuse, methods, versions } from "./corpus.js";

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
