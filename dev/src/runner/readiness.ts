import { createServer } from "node:net";
import { waitFor } from "@ctrl/testing";
import { StackStoppedError, type Readiness } from "./step-spec.js";

/** Waits until `ready` holds (within `timeoutMs`), or rejects with {@link StackStoppedError} once `signal` aborts. */
export async function waitReady(ready: Readiness, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new StackStoppedError());
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
  aborted.catch(() => undefined);
  await Promise.race([aborted, pollReady(ready, timeoutMs, signal)]);
}

async function pollReady(ready: Readiness, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const opts = { timeoutMs, intervalMs: 100 };
  // Once aborted, a check ends the poll loop with a throw-free `true` (the race has settled already).
  const guard =
    <T>(check: () => Promise<T>) =>
    async () =>
      signal.aborted ? true : check();
  if ("http" in ready) {
    const status = ready.status ?? 200;
    await waitFor(
      `GET ${ready.http} to answer ${status}`,
      guard(async () => {
        const res = await fetch(ready.http, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        return res.status === status;
      }),
      opts,
    );
  } else if ("tcp" in ready) {
    const { host, port } = ready.tcp;
    await waitFor(
      `${host}:${port} to accept connections`,
      guard(() => canConnect(host, port)),
      opts,
    );
  } else {
    await waitFor(ready.probe, guard(ready.check), opts);
  }
}

/** True when a TCP connection to host:port succeeds within a second. */
export async function canConnect(host: string, port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** True when nothing listens on `port` (we can bind it on all IPv4 interfaces and on loopback). */
export async function isPortFree(port: number): Promise<boolean> {
  const tryBind = (host: string) =>
    new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once("error", (err: NodeJS.ErrnoException) => resolve(err.code !== "EADDRINUSE" && err.code !== "EACCES"));
      srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
    });
  return (await tryBind("127.0.0.1")) && (await tryBind("0.0.0.0"));
}
