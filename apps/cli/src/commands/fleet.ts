import { toJson } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { FleetRolloutSchema, SentinelRolloutService, type FleetRollout } from "@ctrl/proto";
import type { CliConfig, FleetAction, FleetFlags } from "../args.js";
import type { Output } from "../output.js";

/** The Connect SentinelRolloutService client, with the configured key (the operator credential) as bearer. */
export function fleetClient(config: CliConfig): Client<typeof SentinelRolloutService> {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${config.rootKey}`);
    return next(req);
  };
  return createClient(SentinelRolloutService, createConnectTransport({ baseUrl: config.apiUrl, httpVersion: "1.1", interceptors: [auth] }));
}

/** `[#########...........]`: the part of `total` that is done. */
export function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : width;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

/**
 * The live view of a rollout: a header, one line per wave with a progress bar and its counts,
 * the totals (succeeded / failed / pending), then the failures with their reasons.
 */
export function renderRollout(r: FleetRollout): string {
  const lines = [`rollout ${r.id}  ${r.state}${r.pausedReason ? ` (${r.pausedReason})` : ""}  image ${r.image}`];
  for (const w of r.waves) {
    const label = `wave ${w.index + 1} ${String(w.percent).padStart(3)}%`;
    if (w.size === 0) {
      lines.push(`  ${label}  (empty, skipped)`);
      continue;
    }
    const done = w.succeeded + w.failed;
    lines.push(`  ${label}  ${bar(done, w.size)} ${done}/${w.size}  ${w.status}${w.failed ? `  ${w.failed} failed` : ""}`);
  }
  lines.push(
    `  ${r.succeeded} succeeded, ${r.failed + r.skipped} failed${r.skipped ? ` (${r.skipped} skipped)` : ""}, ${r.pending + r.deploying} pending${r.deploying ? ` (${r.deploying} deploying)` : ""}${r.reverted ? `, ${r.reverted} reverted` : ""} of ${r.total}`,
  );
  const failures = r.targets.filter((t) => t.outcome === "failed" || t.outcome === "skipped" || t.outcome === "revert_failed");
  for (const t of failures.slice(0, 50))
    lines.push(
      `  ✗ ${t.sentinelId} (${t.region}) ${t.outcome}: ${t.reason}${t.exitCode !== undefined ? ` exit ${t.exitCode}` : ""}${t.message ? ` — ${t.message}` : ""}`,
    );
  if (failures.length > 50) lines.push(`  … and ${failures.length - 50} more`);
  return lines.join("\n");
}

function asJson(r: FleetRollout | undefined): unknown {
  return r ? toJson(FleetRolloutSchema, r) : null;
}

/** Follows a rollout until it is no longer active, printing its view at every change (JSON lines with --json). */
async function follow(client: Client<typeof SentinelRolloutService>, rolloutId: string, out: Output): Promise<FleetRollout | undefined> {
  let last: FleetRollout | undefined;
  for await (const event of client.watchRollout({ rolloutId })) {
    last = event.rollout;
    if (!last) continue;
    if (out.json) out.stdout.write(`${JSON.stringify(asJson(last))}\n`);
    else out.stdout.write(`${renderRollout(last)}\n\n`);
  }
  return last;
}

/** Exit code of a finished view: 0 when it completed (or rolled back as asked), 1 when paused with failures. */
function exitCodeOf(r: FleetRollout | undefined): number {
  return r && r.state === "paused" && r.pausedReason !== "manual" ? 1 : 0;
}

/** `ctrl fleet <action>`. */
export async function fleetCommand(config: CliConfig, action: FleetAction, flags: FleetFlags, out: Output): Promise<number> {
  const client = fleetClient(config);
  const show = (r: FleetRollout | undefined) => out.result(asJson(r), r ? renderRollout(r) : "no rollout");
  switch (action) {
    case "rollout": {
      const { rollout } = await client.rollout({
        image: flags.image!,
        wavePercentages: flags.waves ?? [],
        webhookUrl: flags.webhook ?? "",
        concurrency: flags.concurrency ?? 0,
      });
      if (!flags.follow) {
        show(rollout);
        return 0;
      }
      return exitCodeOf(await follow(client, rollout!.id, out));
    }
    case "status": {
      if (flags.follow) return exitCodeOf(await follow(client, flags.rolloutId ?? "", out));
      const { rollout } = await client.getRollout({ rolloutId: flags.rolloutId ?? "" });
      show(rollout);
      return 0;
    }
    case "pause":
      show((await client.pause({})).rollout);
      return 0;
    case "resume":
      show((await client.resume({ retryFailed: flags.retryFailed })).rollout);
      return 0;
    case "cancel":
      show((await client.cancel({})).rollout);
      return 0;
    case "rollback": {
      const r = await client.rollbackAll({});
      out.result(
        { rolloutId: r.rolloutId, reverted: r.reverted },
        `rolling back ${r.reverted} sentinel(s) of ${r.rolloutId} to their previous image (ctrl fleet status --follow)`,
      );
      return 0;
    }
    case "history": {
      const { rollouts } = await client.listRollouts({ limit: flags.limit });
      out.result(
        rollouts.map((r) => asJson(r)),
        rollouts.length
          ? rollouts
              .map(
                (r) =>
                  `${r.id}  ${r.state.padEnd(12)} ${new Date(Number(r.startedAt)).toISOString()}  ${r.succeeded}/${r.total} ok  ${r.failed} failed  by ${r.createdBy}  ${r.image}`,
              )
              .join("\n")
          : "no fleet rollouts yet",
      );
      return 0;
    }
  }
}
