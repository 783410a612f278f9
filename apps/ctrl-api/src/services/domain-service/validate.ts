import { domainToASCII } from "node:url";

/** A custom domain name after normalisation, or the reason it is not acceptable. */
export type DomainCheck = { ok: true; domain: string; wildcard: boolean } | { ok: false; reason: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Normalises and validates a custom domain: lower case, no trailing dot, IDNs to punycode, at most
 * 253 characters, labels of 1–63 `[a-z0-9-]` not starting or ending with `-`, at least two labels,
 * a non-numeric top-level label (no IP addresses), and a wildcard only as the whole first label
 * (`*.example.com`, never `*.com`). `apexDomain` is the platform's own domain: neither it, anything
 * under it, nor a wildcard covering it can be claimed.
 */
export function checkCustomDomain(input: string, apexDomain: string): DomainCheck {
  let name = input.trim().toLowerCase();
  if (name === "") return { ok: false, reason: "must not be empty" };
  if (name.length > 253 + 1) return { ok: false, reason: "at most 253 characters" };
  if (name.endsWith(".")) name = name.slice(0, -1);
  const wildcard = name.startsWith("*.");
  const base = wildcard ? name.slice(2) : name;
  if (base.includes("*")) return { ok: false, reason: "a wildcard is only allowed as the whole first label (*.example.com)" };
  // Only letters, digits, '-' and '.': domainToASCII alone lets URL syntax (`/`, `:`, `@`) through.
  if (!/^[\p{L}\p{N}\p{M}.-]+$/u.test(base)) return { ok: false, reason: "not a valid hostname (letters, digits, '-' and '.' only)" };
  const ascii = domainToASCII(base);
  if (ascii === "") return { ok: false, reason: "not a valid hostname" };
  const domain = wildcard ? `*.${ascii}` : ascii;
  if (domain.length > 253) return { ok: false, reason: "at most 253 characters" };
  const labels = ascii.split(".");
  if (labels.length < 2)
    return {
      ok: false,
      reason: wildcard
        ? "a wildcard needs at least two labels after *. (e.g. *.example.com)"
        : "needs at least two labels (e.g. app.example.com)",
    };
  for (const label of labels) {
    if (!LABEL.test(label))
      return { ok: false, reason: `label '${label}' must be 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'` };
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return { ok: false, reason: "an IP address is not a domain" };
  const apex = apexDomain.toLowerCase().replace(/\.$/, "");
  const apexParent = apex.split(".").slice(1).join(".");
  if (ascii === apex || ascii.endsWith(`.${apex}`) || (wildcard && ascii === apexParent)) {
    return { ok: false, reason: `names under the platform domain ${apex} cannot be claimed` };
  }
  return { ok: true, domain, wildcard };
}
