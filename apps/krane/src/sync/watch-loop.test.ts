import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";
import { CursorStore } from "./cursor.js";
import { WatchLoop } from "./watch-loop.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "krane-unit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("watch loop", () => {
  it("applies in order, persists the cursor only after applying, skips replays, and resumes from the cursor after a break or a failed apply", async () => {
    const cursor = new CursorStore(join(dir, "watch-cursor.json"), "local");
    await cursor.load();
    const opened: bigint[] = [];
    const applied: bigint[] = [];
    let failOnce = true;
    let connection = 0;
    const loop = new WatchLoop<{ version: bigint }>({
      name: "test",
      cursor,
      backoff: new Backoff(1, 5),
      logger: pino({ level: "silent" }),
      version: (m) => m.version,
      open: (after, signal) => {
        opened.push(after);
        const c = ++connection;
        return (async function* () {
          if (c === 1) {
            yield { version: 1n };
            yield { version: 2n };
            throw new Error("connection reset"); // the control plane went away
          }
          // The server replays from an older point (e.g. a snapshot): 1 and 2 must not be applied again.
          for (const v of [1n, 2n, 3n, 4n]) yield { version: v };
          // Then stays open until the loop aborts it (as a real Connect stream does on its signal).
          await new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));
        })();
      },
      apply: async (m) => {
        // Cursor persisted for the previous message, never yet for this one.
        expect(cursor.get()).toBeLessThan(m.version);
        if (m.version === 3n && failOnce) {
          failOnce = false;
          throw new Error("disk full");
        }
        applied.push(m.version);
      },
    });
    loop.start();
    const deadline = Date.now() + 5_000;
    while (cursor.get() < 4n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await loop.stop();
    expect(applied).toEqual([1n, 2n, 3n, 4n]);
    expect(opened.slice(0, 3)).toEqual([0n, 2n, 2n]);
    expect(await new CursorStore(join(dir, "watch-cursor.json"), "local").load()).toBe(4n);
  });
});
