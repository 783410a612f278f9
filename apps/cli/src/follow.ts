import { ConnectError, Code, type Client } from "@connectrpc/connect";
import type { Deployment, DeploymentService } from "@ctrl/proto";
import { forEachLinked, sleep, withLinkedSignal } from "./abort.js";
import { formatStep, indent, isTerminal, statusName } from "./format.js";
import type { Output } from "./output.js";

/** Options for {@link followDeployment}. */
export interface FollowOptions {
  /** Give up following (the deployment goes on) after this long. */
  timeoutMs: number;
  /** Print the build log as it grows. Default true. */
  showLogs?: boolean;
  /** How often the build log is polled. Default 500 ms. */
  logPollMs?: number;
  /** Stops following (Ctrl-C): {@link followDeployment} then throws {@link FollowInterruptedError}. */
  signal?: AbortSignal;
}

/** Thrown by {@link followDeployment} when `signal` (Ctrl-C) stopped the follow; the deployment goes on. */
export class FollowInterruptedError extends Error {
  override readonly name = "FollowInterruptedError";
}

/**
 * Prints a deployment's progress until it is ready, failed or cancelled: each step as it opens and
 * closes (`WatchDeployment` stream, reconnected if it breaks) and the build log's new lines
 * (`GetDeploymentLogs`, polled). Returns the final deployment (`GetDeployment`).
 */
export async function followDeployment(
  client: Client<typeof DeploymentService>,
  deploymentId: string,
  out: Output,
  options: FollowOptions,
): Promise<Deployment> {
  const stop = new AbortController();
  const deadline = setTimeout(() => stop.abort(new Error("timeout")), options.timeoutMs);
  const interrupt = () => stop.abort(new FollowInterruptedError("interrupted"));
  if (options.signal?.aborted) interrupt();
  options.signal?.addEventListener("abort", interrupt, { once: true });
  let afterSeq = 0n;
  let finished = false;

  const printLogs = async () => {
    for (;;) {
      const page = await withLinkedSignal(stop.signal, (signal) =>
        client.getDeploymentLogs({ deploymentId, afterSeq, limit: 1000 }, { signal }),
      );
      for (const l of page.lines) out.info(indent(l.line, "    │ "));
      afterSeq = page.nextSeq;
      if (page.lines.length < 1000) return page;
    }
  };
  const logLoop = async () => {
    if (options.showLogs === false) return;
    while (!stop.signal.aborted && !finished) {
      try {
        await printLogs();
      } catch (err) {
        if (stop.signal.aborted) return;
        if (ConnectError.from(err).code === Code.Unimplemented) return; // an older API without logs
      }
      await sleep(options.logPollMs ?? 500, stop.signal);
    }
  };
  const logs = logLoop();

  try {
    await watchUntilTerminal(client, deploymentId, out, stop.signal);
    if (stop.signal.reason instanceof FollowInterruptedError) throw stop.signal.reason;
    if (stop.signal.aborted) {
      throw new Error(
        `stopped following after ${Math.round(options.timeoutMs / 1000)} s; the deployment goes on — check it with \`ctrl status ${deploymentId}\``,
      );
    }
    finished = true;
    await logs;
    // The last lines written before the terminal status.
    if (options.showLogs !== false) await printLogs().catch(() => undefined);
    const { deployment } = await client.getDeployment({ deploymentId });
    if (!deployment) throw new Error(`deployment ${deploymentId} vanished`);
    return deployment;
  } finally {
    finished = true;
    clearTimeout(deadline);
    options.signal?.removeEventListener("abort", interrupt);
    if (!stop.signal.aborted) stop.abort();
    await logs.catch(() => undefined);
  }
}

/**
 * Prints each step of `WatchDeployment` as it changes and each status once, until a terminal status
 * or `signal` aborts; a broken stream is reopened with backoff (at most 10 times in a row), and
 * errors that retrying cannot fix are thrown.
 */
async function watchUntilTerminal(
  client: Client<typeof DeploymentService>,
  deploymentId: string,
  out: Output,
  signal: AbortSignal,
): Promise<void> {
  let failures = 0;
  let lastStatus = "";
  let terminal = false;
  const printed = new Map<string, string>();
  while (!signal.aborted && !terminal) {
    try {
      await forEachLinked(
        signal,
        (linked) => client.watchDeployment({ deploymentId }, { signal: linked }),
        (event) => {
          failures = 0;
          const status = statusName(event.status);
          if (event.step) {
            // After a reconnect the server sends every step again: print only what changed.
            const key = `${event.step.status}|${event.step.message}|${event.step.endedAt}|${event.step.errorMessage}`;
            if (printed.get(event.step.step) !== key) {
              printed.set(event.step.step, key);
              out.info(formatStep(event.step));
            }
          }
          if (status !== lastStatus) {
            lastStatus = status;
            out.info(`→ ${status}`);
          }
          if (isTerminal(event.status) && !event.step) terminal = true;
        },
      );
      // A stream that ended before a terminal status (e.g. ctrl-api restarted) is resumed.
      if (!terminal) throw new ConnectError("the progress stream ended early", Code.Unavailable);
    } catch (err) {
      if (signal.aborted) return;
      const e = ConnectError.from(err);
      // Errors that retrying cannot fix end the follow at once.
      if ([Code.NotFound, Code.PermissionDenied, Code.Unauthenticated, Code.InvalidArgument].includes(e.code)) throw e;
      if (++failures > 10) throw new Error(`lost the progress stream ${failures} times: ${e.message}`);
      out.info(`(progress stream interrupted: ${e.rawMessage}; reconnecting)`);
      await sleep(Math.min(5_000, 250 * 2 ** failures), signal);
    }
  }
}
