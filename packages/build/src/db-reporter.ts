import { appendBuildLogs, upsertDeploymentStep, type BuildLogWrite, type Db } from "@ctrl/db";
import type { BuildReporter, BuildStepName } from "./steps.js";

/** Options for {@link dbReporter}. */
export interface DbReporterOptions {
  /** Most log lines stored per build; one note replaces the rest. Default 5,000. */
  maxLines?: number;
  /** How often buffered lines are written. Default 250 ms. */
  flushIntervalMs?: number;
  /** Called when a background flush fails (the build goes on; the next flush retries). */
  onError?: (err: unknown) => void;
  /**
   * The last `seq` already in the log (`maxBuildLogSeq`): a retried build appends after the lines
   * of the interrupted attempt, so a reader following with `seq > cursor` misses nothing.
   */
  startSeq?: number;
}

/**
 * A reporter that writes steps to `deployment_steps` at once (upserts keyed by step name, so a
 * retried build updates its rows) and log lines to `build_logs` in small batches, so readers
 * (GetDeployment, WatchDeployment, `ctrl logs --follow`) see them while the build runs.
 */
export function dbReporter(db: Db, deploymentId: string, buildId: string, options: DbReporterOptions = {}): BuildReporter {
  const startSeq = options.startSeq ?? 0;
  const maxLines = startSeq + (options.maxLines ?? 5_000);
  let seq = startSeq;
  let buffer: BuildLogWrite[] = [];
  let truncated = false;
  let writing: Promise<void> = Promise.resolve();
  const write = () => {
    if (buffer.length === 0) return writing;
    const batch = buffer;
    buffer = [];
    writing = writing
      .then(() => appendBuildLogs(db, deploymentId, buildId, batch))
      .catch((err) => {
        // Put the lines back so the next flush tries again (order is kept by seq).
        buffer = [...batch, ...buffer];
        options.onError?.(err);
      });
    return writing;
  };
  const timer = setInterval(() => void write(), options.flushIntervalMs ?? 250);
  timer.unref();
  return {
    async step(step, status, message, errorMessage) {
      await write();
      await upsertDeploymentStep(db, { deploymentId, step, status, message, errorMessage: errorMessage ?? null, now: Date.now() });
    },
    log(step: BuildStepName, line: string) {
      if (seq >= maxLines) {
        if (!truncated) {
          truncated = true;
          buffer.push({ step, seq: ++seq, line: `… log truncated after ${maxLines - startSeq} lines`, createdAt: Date.now() });
        }
        return;
      }
      buffer.push({ step, seq: ++seq, line, createdAt: Date.now() });
      if (buffer.length >= 200) void write();
    },
    async flush() {
      await write();
      await writing;
      if (buffer.length > 0) await write();
    },
    close() {
      clearInterval(timer);
    },
  };
}
