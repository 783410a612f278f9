import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { PortAllocator } from "./ports.js";

describe("port allocator", () => {
  it("skips reserved ports and ports bound by someone else, and says when the range is exhausted", async () => {
    // Below the ephemeral range (32768+), so outgoing connections never hold these ports.
    const base = 21_000 + (process.pid % 500) * 4;
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(base + 1, "0.0.0.0", ok));
    try {
      const ports = new PortAllocator(base, base + 3);
      ports.reserve(base);
      expect(await ports.allocate()).toBe(base + 2);
      expect(await ports.allocate()).toBe(base + 3);
      await expect(ports.allocate()).rejects.toThrow(/no free port left/);
      ports.release(base + 2);
      expect(await ports.allocate()).toBe(base + 2);
    } finally {
      blocker.close();
    }
  });
});
