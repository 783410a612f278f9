import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1 (bind to 0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`
 * with `what` and the last error. The synchronisation primitive of every test: never a fixed sleep.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 20_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String((lastError as Error).message ?? lastError)}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves once an HTTP GET to `url` answers 200. */
export async function waitForHttpOk(url: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(`${url} to answer 200`, async () => (await fetch(url)).status === 200, { timeoutMs, intervalMs: 50 });
}

/** Resolves once nothing listens on 127.0.0.1:`port` any more. */
export async function waitForPortFree(port: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    `port ${port} to be free`,
    () =>
      new Promise<boolean>((resolve) => {
        const srv = createServer();
        srv.once("error", () => resolve(false));
        srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
      }),
    { timeoutMs, intervalMs: 50 },
  );
}
