import type { CliConfig } from "../args.js";
import { deploymentClient } from "../client.js";
import { isTerminal, statusName } from "../format.js";
import type { Output } from "../output.js";

/**
 * `ctrl logs <id> [--follow]`: the deployment's build log. With --follow it polls for new lines
 * until the deployment reaches a terminal status and every line written before it is printed.
 */
export async function logsCommand(config: CliConfig, deploymentId: string, follow: boolean, out: Output, pollMs = 500): Promise<number> {
  const client = deploymentClient(config);
  let afterSeq = 0n;
  const lines: { seq: number; step: string; line: string; createdAt: number }[] = [];
  let status = "";
  for (;;) {
    const page = await client.getDeploymentLogs({ deploymentId, afterSeq, limit: 1000 });
    status = statusName(page.status);
    for (const l of page.lines) {
      if (out.json) lines.push({ seq: Number(l.seq), step: l.step, line: l.line, createdAt: Number(l.createdAt) });
      else out.stdout.write(`${l.line}\n`);
    }
    afterSeq = page.nextSeq;
    if (page.lines.length === 1000) continue;
    // The status was read before the lines: terminal then means no line can follow.
    if (!follow || isTerminal(page.status)) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  if (out.json) out.result({ deploymentId, status, lines }, "");
  return 0;
}
