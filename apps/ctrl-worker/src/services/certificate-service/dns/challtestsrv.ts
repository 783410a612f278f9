import { DnsProviderRejectedError, type DnsProvider } from "./provider.js";

/**
 * Pebble's challenge test server (`pebble-challtestsrv`): its management API sets TXT records on the
 * fake DNS server Pebble resolves through. For local stacks and tests, never production.
 */
export function createChalltestsrvProvider(managementUrl: string, fetchFn: typeof fetch = fetch): DnsProvider {
  const call = async (path: string, body: object) => {
    const res = await fetchFn(new URL(path, managementUrl), { method: "POST", body: JSON.stringify(body) });
    if (res.status >= 400 && res.status < 500)
      throw new DnsProviderRejectedError(`challtestsrv ${path} answered ${res.status}: ${await res.text()}`);
    if (!res.ok) throw new Error(`challtestsrv ${path} answered ${res.status}`);
  };
  // challtestsrv wants fully qualified names with the trailing dot.
  const fqdn = (name: string) => (name.endsWith(".") ? name : `${name}.`);
  return {
    name: "challtestsrv",
    setTxt: (name, value) => call("/set-txt", { host: fqdn(name), value }),
    clearTxt: (name) => call("/clear-txt", { host: fqdn(name) }),
  };
}
