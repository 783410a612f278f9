/**
 * Which ports frontline and sentinels may forward to: the agents' instance port range (krane's
 * KRANE_PORT_RANGE), never a control-plane port. A row in `instances`/`sentinels` is written from an
 * agent's report; should one ever name `127.0.0.1:9070` (Restate admin) or ctrl-api's port, the edge
 * treats it as no upstream instead of proxying a public hostname to it.
 */

/** An inclusive port range. */
export interface PortRange {
  low: number;
  high: number;
}

/** krane's default KRANE_PORT_RANGE; the edge's default must match it. */
export const defaultInstancePortRange: PortRange = { low: 20000, high: 29999 };

/** Parses `low-high` (e.g. `20000-29999`); throws a message that says what is expected. */
export function parsePortRange(spec: string): PortRange {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(spec.trim());
  const range = m ? { low: Number(m[1]), high: Number(m[2]) } : undefined;
  if (!range || range.low < 1 || range.high > 65535 || range.low > range.high)
    throw new Error(`must look like 20000-29999: an ascending range within 1-65535 (got ${JSON.stringify(spec.slice(0, 40))})`);
  return range;
}

/** The port of `host:port` / `[v6]:port`, or undefined when the address is malformed. */
export function portOf(address: string): number | undefined {
  const m = /^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]\s/]+):(\d{1,5})$/.exec(address);
  return m ? Number(m[1]) : undefined;
}

/**
 * The addresses whose port lies in `range`; every other one is passed to `refused` (for a log line)
 * and dropped, so it is never dialed.
 */
export function allowedUpstreams(addresses: readonly string[], range: PortRange, refused: (address: string) => void): string[] {
  return addresses.filter((address) => {
    const port = portOf(address);
    const ok = port !== undefined && port >= range.low && port <= range.high;
    if (!ok) refused(address);
    return ok;
  });
}
