import { createServer, type Server } from "node:net";

/**
 * A listening TCP socket on the host's 127.0.0.1:`port`, for a sandbox's port bridge: hand its
 * file descriptor to the sandboxed process (spawn stdio), then {@link closeListener} here — the
 * socket lives on in the sandbox, so it survives the agent. Resolves the server and its fd.
 */
export async function listenOnHost(port: number, host = "127.0.0.1"): Promise<{ server: Server; fd: number }> {
  const server = createServer();
  // Never accept here: the sandboxed relay does. pauseOnConnect is moot since we close right after spawn.
  await new Promise<void>((ok, fail) => server.once("error", fail).listen({ port, host, exclusive: true, backlog: 511 }, () => ok()));
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) {
    server.close();
    throw new Error("cannot get the listening socket's file descriptor (Node's net handle has no fd on this platform)");
  }
  return { server, fd };
}

/** Closes our copy of a listener whose fd a child process now holds. */
export function closeListener(server: Server): Promise<void> {
  return new Promise((ok) => server.close(() => ok()));
}
