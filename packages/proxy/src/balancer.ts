/** Options of {@link RoundRobin}. */
export interface RoundRobinOptions {
  /** How long an address that failed is skipped (unless every address is failing). */
  failureCooldownMs: number;
  now?: () => number;
}

/**
 * Round robin over a changing set of addresses per key (a deployment), skipping addresses that
 * failed recently. When every address is cooling down it still tries them, because refusing
 * outright would turn a transient blip into certain failure.
 */
export class RoundRobin {
  private readonly cursors = new Map<string, number>();
  private readonly failedUntil = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: RoundRobinOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Returns a picker for one request: each call yields the next address to try, never the same one
   * twice, healthy ones first; undefined when all were tried.
   */
  picker(key: string, addresses: readonly string[]): () => string | undefined {
    const tried = new Set<string>();
    return () => {
      if (addresses.length === 0) return undefined;
      const now = this.now();
      const start = this.cursors.get(key) ?? 0;
      let fallback: string | undefined;
      for (let i = 0; i < addresses.length; i++) {
        const index = (start + i) % addresses.length;
        const address = addresses[index]!;
        if (tried.has(address)) continue;
        if ((this.failedUntil.get(address) ?? 0) > now) {
          fallback ??= address;
          continue;
        }
        this.cursors.set(key, (index + 1) % addresses.length);
        tried.add(address);
        return address;
      }
      if (fallback !== undefined) tried.add(fallback);
      return fallback;
    };
  }

  /** Skips `address` for the cooldown. */
  markFailed(address: string): void {
    this.failedUntil.set(address, this.now() + this.options.failureCooldownMs);
  }

  /** Clears a failure mark once the address answers again. */
  markHealthy(address: string): void {
    if (this.failedUntil.size > 0) this.failedUntil.delete(address);
  }

  /** Addresses currently skipped (for health output). */
  failing(): string[] {
    const now = this.now();
    return [...this.failedUntil].filter(([, until]) => until > now).map(([address]) => address);
  }
}
