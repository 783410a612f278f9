import { ChallengeType, DomainService, type CustomDomain } from "@ctrl/proto";
import { UsageError, type CliConfig } from "../args.js";
import type { DomainsAction, DomainsFlags } from "../lifecycle-args.js";
import type { Output } from "../output.js";
import { connectClient } from "./vars.js";

/** One custom domain as `--json` shows it (the same keys in add, ls and the /v2 API). */
export function domainJson(d: CustomDomain) {
  return {
    id: d.id,
    domain: d.domain,
    projectId: d.projectId,
    environmentId: d.environmentId,
    challengeType: d.challengeType === ChallengeType.DNS_01 ? "dns-01" : "http-01",
    state: d.state,
    verificationStatus: d.verificationStatus,
    verificationRecord: d.verificationRecord
      ? { name: d.verificationRecord.name, type: d.verificationRecord.type, value: d.verificationRecord.value }
      : null,
    challengeStatus: d.challengeStatus,
    ...(d.routed !== undefined ? { routed: d.routed } : {}),
    ...(d.verificationError ? { verificationError: d.verificationError } : {}),
    ...(d.errorMessage ? { errorMessage: d.errorMessage } : {}),
    ...(d.certificateExpiresAt !== undefined ? { certificateExpiresAt: Number(d.certificateExpiresAt) } : {}),
  };
}

/** What a person needs to read about one domain's certificate, in a few words. */
function certificateText(d: CustomDomain): string {
  if (d.certificateExpiresAt !== undefined) return `valid until ${new Date(Number(d.certificateExpiresAt)).toISOString().slice(0, 10)}`;
  if (d.errorMessage) return `failed: ${d.errorMessage}`;
  return d.verificationStatus === "verified" ? d.challengeStatus : "after verification";
}

/**
 * `ctrl domains add|ls|rm`. JSON: add `{domain: <domain>}`, ls `{projectId, environment, domains: [<domain>]}`,
 * rm `{domain, routesRemoved, certificatesRemoved}`, with <domain> as {@link domainJson}.
 */
export async function domainsCommand(
  config: CliConfig,
  action: DomainsAction,
  domain: string | undefined,
  flags: DomainsFlags,
  out: Output,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const client = connectClient(DomainService, config);
  if (action === "rm") {
    const res = await client.removeCustomDomain({ domain: domain! });
    out.result(
      { domain: res.domain, routesRemoved: res.routesRemoved, certificatesRemoved: res.certificatesRemoved },
      `removed ${res.domain}${res.routesRemoved ? " (no longer routed)" : ""}${res.certificatesRemoved ? "; its certificate is deleted" : ""}`,
    );
    return 0;
  }
  const projectId = flags.project ?? env.CTRL_PROJECT_ID?.trim();
  if (!projectId) throw new UsageError("missing the project: pass --project <project id> or set CTRL_PROJECT_ID");
  if (action === "add") {
    const environmentSlug = flags.env ?? "production";
    const res = await client.addCustomDomain({
      projectId,
      environmentSlug,
      domain: domain!,
      challengeType: flags.dns01 ? ChallengeType.DNS_01 : ChallengeType.UNSPECIFIED,
    });
    const d = res.domain!;
    out.result(
      { domain: domainJson(d) },
      [
        `added ${d.domain} to ${environmentSlug} (${d.state})`,
        "prove you own it: create this DNS record, then it is routed and its certificate issued",
        `  ${d.verificationRecord?.name}  TXT  ${d.verificationRecord?.value}`,
        `check with: ctrl domains ls --env ${environmentSlug}`,
      ].join("\n"),
    );
    return 0;
  }
  const res = await client.listCustomDomains({ projectId, environmentSlug: flags.env ?? "" });
  const rows = res.domains.map((d) => [d.domain, d.state, d.routed ? "yes" : "no", certificateText(d)]);
  const header = ["DOMAIN", "STATE", "ROUTED", "CERTIFICATE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  out.result(
    { projectId, environment: flags.env ?? null, domains: res.domains.map(domainJson) },
    rows.length ? [line(header), ...rows.map(line)].join("\n") : `no custom domains${flags.env ? ` in ${flags.env}` : ""}`,
  );
  return 0;
}
