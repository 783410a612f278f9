import { createServer } from "node:net";

/** Hands out instance ports from a range, skipping ports in use by anyone (checked by binding). */
export class PortAllocator {
  private readonly reserved = new Set<number>();
  private next: number;

  constructor(
    private readonly low: number,
    private readonly high: number,
  ) {
    if (!(low > 0 && high >= low && high <= 65535)) throw new Error(`invalid port range ${low}-${high}`);
    this.next = low;
  }

  /** Marks a port as taken (an adopted instance's). */
  reserve(port: number): void {
    this.reserved.add(port);
  }

  release(port: number): void {
    this.reserved.delete(port);
  }

  /** True when nobody listens on `port` (our own reservation aside). */
  isFree(port: number): Promise<boolean> {
    return isFree(port);
  }

  /** The next port of the range that is neither reserved nor bindable by someone else. */
  async allocate(): Promise<number> {
    const size = this.high - this.low + 1;
    for (let i = 0; i < size; i++) {
      const port = this.next;
      this.next = port >= this.high ? this.low : port + 1;
      if (this.reserved.has(port)) continue;
      this.reserved.add(port);
      if (await isFree(port)) return port;
      this.reserved.delete(port);
    }
    throw new Error(`no free port left in ${this.low}-${this.high} (${this.reserved.size} reserved by instances)`);
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    // All interfaces: an app binding 0.0.0.0 would collide with anything on any address.
    srv.listen({ port, host: "0.0.0.0", exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
