import type { Pebble } from "@ctrl/testing";
import { createServer, request } from "node:https";

/** What the proxy saw: every request to Pebble, with the status the worker got. */
export interface RateLimitProxy {
  /** The ACME directory URL to give the worker (through the proxy). */
  url: string;
  seen: { method: string; path: string; status: number }[];
  /** How many new-order requests were answered 429. */
  limited(): number;
  close(): void;
}

/**
 * A proxy with Pebble's own TLS identity between the worker and Pebble that answers new-order
 * requests with 429 + `Retry-After` (what Let's Encrypt does) while `limitOrder(n)` says so for the
 * n-th order (0-based), and passes everything else through.
 */
export async function startRateLimitingProxy(
  pebble: Pebble,
  options: { limitOrder: (n: number) => boolean; retryAfterSeconds: number },
): Promise<RateLimitProxy> {
  const upstream = new URL(pebble.directoryUrl);
  const seen: RateLimitProxy["seen"] = [];
  let orders = 0;
  let limited = 0;
  const proxy = createServer({ cert: pebble.caPem, key: pebble.tlsKeyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      if (req.method === "POST" && path === "/order-plz" && options.limitOrder(orders++)) {
        limited++;
        seen.push({ method: "POST", path, status: 429 });
        const body = JSON.stringify({
          type: "urn:ietf:params:acme:error:rateLimited",
          detail: "too many new orders recently",
          status: 429,
        });
        res.writeHead(429, {
          "content-type": "application/problem+json",
          "retry-after": String(options.retryAfterSeconds),
          "content-length": Buffer.byteLength(body),
        });
        return res.end(body);
      }
      // Pebble builds its URLs (and checks JWS urls) from the Host header: keep the proxy's.
      const up = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers, ca: pebble.caPem },
        (upRes) => {
          seen.push({ method: req.method ?? "", path, status: upRes.statusCode ?? 0 });
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on("error", () => res.writeHead(502).end());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  return {
    url: `https://127.0.0.1:${(proxy.address() as { port: number }).port}/dir`,
    seen,
    limited: () => limited,
    close: () => proxy.close(),
  };
}
