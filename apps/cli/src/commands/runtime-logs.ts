import type { CliConfig } from "../args.js";
import { deploymentClient } from "../client.js";
import type { Output } from "../output.js";

/** `ctrl logs <id> --runtime …` options. */
export interface RuntimeLogsOptions {
  follow: boolean;
  /** Unix ms: only lines observed since then. */
  since?: number;
  instance?: string;
  /** Without --since: the last this many lines (default 100). */
  tail: number;
}

const pageSize = 1_000;

/**
 * `ctrl logs <id> --runtime [--follow] [--since 10m] [--instance ID] [--tail N]`: what the
 * deployment's instances printed (stdout and stderr), through ctrl-api's GetRuntimeLogs with the
 * root key; kept after the instances exit. Each line is prefixed with its instance when the
 * deployment has more than one. --follow polls until interrupted; with --json every line is one
 * JSON object on its own line (also without --follow).
 */
export async function runtimeLogsCommand(
  config: CliConfig,
  deploymentId: string,
  opts: RuntimeLogsOptions,
  out: Output,
  pollMs = 500,
  signal?: AbortSignal,
): Promise<number> {
  const client = deploymentClient(config);
  let afterSeq = 0n;
  let first = true;
  for (;;) {
    const page = await client.getRuntimeLogs({
      deploymentId,
      afterSeq,
      limit: pageSize,
      ...(opts.since !== undefined ? { since: BigInt(opts.since) } : {}),
      ...(opts.instance ? { instance: opts.instance } : {}),
      // Without --since the first page is the last N lines, like `tail`.
      ...(first && opts.since === undefined ? { tail: opts.tail } : {}),
    });
    const prefix = page.instances.length > 1 && !opts.instance;
    for (const l of page.lines) {
      if (out.json)
        out.stdout.write(
          `${JSON.stringify({ seq: Number(l.seq), instance: l.instance, region: l.region, line: l.line, observedAt: Number(l.observedAt) })}\n`,
        );
      else out.stdout.write(prefix ? `${l.instance} | ${l.line}\n` : `${l.line}\n`);
    }
    if (first && page.lines.length === 0 && !opts.follow && !out.json)
      out.info(
        page.instances.length
          ? `no output${opts.since !== undefined ? " in that time" : ""} (instances: ${page.instances.join(", ")})`
          : `deployment ${deploymentId} has no runtime output yet`,
      );
    afterSeq = page.nextSeq;
    const full = page.lines.length === (first && opts.since === undefined ? opts.tail : pageSize);
    first = false;
    if (full && !(afterSeq === 0n)) continue;
    if (!opts.follow || signal?.aborted) break;
    await new Promise((r) => setTimeout(r, pollMs));
    if (signal?.aborted) break;
  }
  return 0;
}
