import { lookup } from "node:dns/promises";
import { createServer, connect, isIP, type Server, type Socket } from "node:net";
import { chmod, rm } from "node:fs/promises";
import { BlockList } from "node:net";

/** Addresses a build may never reach through the proxy: loopback, private, link-local, CGNAT, multicast, unspecified, metadata. */
const forbidden = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3],
] as const)
  forbidden.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 127],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  forbidden.addSubnet(net, prefix, "ipv6");

/** True when `ip` is one a sandboxed build must never reach (the host, the LAN, cloud metadata). */
export function isForbiddenAddress(ip: string): boolean {
  // IPv4-mapped IPv6 (::ffff:127.0.0.1) is the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return isForbiddenAddress(mapped[1]!);
  const family = isIP(ip);
  if (family === 0) return true;
  return forbidden.check(ip, family === 4 ? "ipv4" : "ipv6");
}

/** Settings of {@link startEgressProxy}. */
export interface EgressProxyOptions {
  /** Unix socket it listens on (mounted into the build's sandbox). */
  socketPath: string;
  /** Host names a CONNECT may name (exact, lower case), e.g. `registry.npmjs.org`. */
  allowHosts: readonly string[];
  /** Ports a CONNECT may name (default 443). */
  allowPorts?: readonly number[];
  /** Hears every refusal (for the build log). */
  onRefused?: (target: string, why: string) => void;
  /** Test hook: resolve names differently (default: the system resolver). */
  resolve?: (host: string) => Promise<string[]>;
}

/** A running egress proxy. */
export interface EgressProxy {
  socketPath: string;
  close(): Promise<void>;
}

const maxHeaderBytes = 8 * 1024;

/**
 * The only door out of a build sandbox: an HTTP CONNECT proxy on a unix socket (npm honours
 * `HTTPS_PROXY`), tunnelling only to the allowed hosts and ports, and only when every address the
 * name resolves to is public — so a DNS answer of 127.0.0.1 cannot turn it into a way into the
 * control plane. Anything else (plain HTTP, other hosts) is answered 403. TLS stays end to end
 * (the proxy sees only the host name).
 */
export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  // Long because one closure over the server, the allow-lists and the open tunnels; each handler is short.
  const allowHosts = new Set(options.allowHosts.map((h) => h.toLowerCase()));
  const allowPorts = new Set(options.allowPorts ?? [443]);
  const resolve = options.resolve ?? (async (host: string) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address));
  const sockets = new Set<Socket>();
  await rm(options.socketPath, { force: true });

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > maxHeaderBytes) refuse(client, 431, "request head too large");
        return;
      }
      client.off("data", onData);
      client.pause();
      const rest = head.subarray(end + 4);
      const [method, target] = head.subarray(0, end).toString("latin1").split("\r\n")[0]!.split(" ");
      void tunnel(client, method ?? "", target ?? "", rest);
    };
    client.on("data", onData);
  });

  const refused = (client: Socket, status: number, target: string, why: string) => {
    options.onRefused?.(target, why);
    refuse(client, status, why);
  };

  async function tunnel(client: Socket, method: string, target: string, rest: Buffer): Promise<void> {
    if (method !== "CONNECT")
      return refused(client, 403, target, `only CONNECT to ${[...allowHosts].join(", ")} is allowed (got ${method.slice(0, 16)})`);
    const m = /^([A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(target);
    if (!m) return refused(client, 400, target, "CONNECT target must be host:port");
    const host = m[1]!.toLowerCase();
    const port = Number(m[2]);
    if (!allowHosts.has(host) || !allowPorts.has(port))
      return refused(client, 403, target, `${host}:${port} is not an allowed build destination`);
    let addresses: string[];
    try {
      addresses = await resolve(host);
    } catch (err) {
      return refused(client, 502, target, `cannot resolve ${host}: ${(err as Error).message}`);
    }
    const bad = addresses.find(isForbiddenAddress);
    if (addresses.length === 0 || bad) return refused(client, 403, target, `${host} resolves to a non-public address (${bad ?? "none"})`);
    const upstream = connect({ host: addresses[0]!, port });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.once("connect", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (rest.length) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on("error", () =>
      client.writable && !upstream.readyState.includes("open") ? refuse(client, 502, "upstream unreachable") : close(),
    );
    client.on("close", close);
    upstream.on("close", close);
  }

  await new Promise<void>((ok, fail) => server.once("error", fail).listen(options.socketPath, () => ok()));
  // The sandboxed build runs as its own unprivileged uid and must be able to connect.
  await chmod(options.socketPath, 0o666);
  return {
    socketPath: options.socketPath,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
      await rm(options.socketPath, { force: true });
    },
  };
}

function refuse(client: Socket, status: number, why: string): void {
  const reason =
    status === 403 ? "Forbidden" : status === 400 ? "Bad Request" : status === 431 ? "Request Header Fields Too Large" : "Bad Gateway";
  client.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${why}\n`);
}
