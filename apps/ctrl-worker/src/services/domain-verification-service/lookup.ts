import { Resolver } from "node:dns/promises";

/** What a TXT lookup saw: the record's values (chunks joined), or the resolver's error code. */
export type TxtLookup = { ok: true; values: string[] } | { ok: false; code: string };

/**
 * Looks up the TXT values of `name` through `servers` (the system's resolvers when empty). Never
 * throws: a missing record, NXDOMAIN, a timeout or SERVFAIL are all "not seen yet", which the
 * service rechecks with backoff rather than retrying in a tight loop.
 */
export async function lookupTxt(name: string, servers: string[] | undefined, timeoutMs: number): Promise<TxtLookup> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers && servers.length > 0) resolver.setServers(servers);
  try {
    const records = await resolver.resolveTxt(name);
    return { ok: true, values: records.map((chunks) => chunks.join("")) };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code ?? (err as Error).message };
  }
}

/** The reason a user sees when the expected value was not found (never more than a few values). */
export function describeMiss(name: string, expected: string, lookup: TxtLookup): string | undefined {
  if (lookup.ok && lookup.values.includes(expected)) return undefined;
  if (!lookup.ok) {
    if (lookup.code === "ENODATA" || lookup.code === "ENOTFOUND")
      return `no TXT record at ${name} yet: create TXT ${name} with the value shown`;
    return `DNS lookup of TXT ${name} failed (${lookup.code}); will check again`;
  }
  if (lookup.values.length === 0) return `no TXT record at ${name} yet: create TXT ${name} with the value shown`;
  const seen = lookup.values
    .slice(0, 3)
    .map((v) => JSON.stringify(v.slice(0, 80)))
    .join(", ");
  return `TXT ${name} has ${lookup.values.length} value(s) (${seen}${lookup.values.length > 3 ? ", …" : ""}) but not the expected one`;
}
