import { Code, ConnectError } from "@connectrpc/connect";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { ClusterClient } from "../cluster-client.js";

/** Where the shipper is in one instance's output. */
export interface OutputCursor {
  /** Names this continuous output (a log file that starts over is a new stream). */
  stream: string;
  /** Bytes of the output before the current file (what rotations moved away). */
  base: number;
  /** Byte offset in the current file. */
  offset: number;
  /** Inode of the rotated file (`.1`) at the last read; a different one means a rotation since. */
  rotatedIno: number;
}

/** One line and where it starts in the instance's output. */
export interface OutputLine {
  stream: string;
  position: number;
  line: string;
}

/** What one read returns: the lines and the cursor after them. */
export interface OutputRead {
  lines: OutputLine[];
  cursor: OutputCursor;
}

/** Where instance output comes from (the process driver reads its log files). */
export interface OutputSource {
  /** Deployment instances with output: the workload (deployment id) and the instance name. */
  outputs(): Promise<{ workload: string; instance: string }[]>;
  /** Complete lines after `cursor` (undefined: from the beginning), at most about `maxBytes`. */
  readOutput(instance: string, cursor: OutputCursor | undefined, maxBytes: number): Promise<OutputRead>;
}

/** What {@link LogShipper} is built from. */
export interface LogShipperDeps {
  client: ClusterClient;
  source: OutputSource;
  /** The persisted cursors (`log-cursors.json` in the data directory). */
  file: string;
  logger: Logger;
  intervalMs: number;
  /** Most bytes read per instance per pass (default 256 KiB). */
  maxBytesPerPass?: number;
  now?: () => number;
}

/** Lines per PushInstanceLogs call (ctrl-api accepts at most 2,000). */
const linesPerPush = 1_000;

/**
 * Pushes what deployment instances print to ctrl-api (ClusterService.PushInstanceLogs), so
 * `ctrl logs --runtime` reads it through the public API and it outlives the instances and this
 * agent's log files. Every `intervalMs` it reads each instance's new complete lines and pushes them;
 * a cursor advances (and is persisted) only after ctrl-api stored the lines, and ctrl-api skips a
 * line it already has (same instance, stream and position), so delivery is at-least-once and stored once.
 * A deployment ctrl-api does not know in this region is skipped to the end of its output.
 */
export class LogShipper {
  private cursors = new Map<string, OutputCursor>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Lines pushed since start (status and tests). */
  shipped = 0;

  constructor(private readonly deps: LogShipperDeps) {}

  async start(): Promise<void> {
    try {
      const saved = JSON.parse(await readFile(this.deps.file, "utf8")) as Record<string, OutputCursor>;
      this.cursors = new Map(Object.entries(saved));
    } catch {
      this.cursors = new Map();
    }
    const tick = () => {
      if (this.stopped) return;
      this.running = this.pass()
        .catch((err: unknown) => this.deps.logger.warn({ err }, "pushing instance output failed; retrying"))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.deps.intervalMs);
        });
    };
    tick();
  }

  /** Stops after the pass in flight (which pushes what it read: Ctrl-C loses no printed line it saw). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every instance's output; also what stop() waits for. */
  async pass(): Promise<void> {
    const { source, client, logger } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    const maxBytes = this.deps.maxBytesPerPass ?? 256 * 1024;
    const outputs = await source.outputs();
    let changed = false;
    for (const { workload, instance } of outputs) {
      const read = await source.readOutput(instance, this.cursors.get(instance), maxBytes);
      try {
        for (let i = 0; i < read.lines.length; i += linesPerPush) {
          const batch = read.lines.slice(i, i + linesPerPush);
          await client.pushInstanceLogs({
            lines: batch.map((l) => ({
              k8sName: workload,
              instance,
              stream: l.stream,
              position: BigInt(l.position),
              line: l.line,
              observedAt: BigInt(now),
            })),
          });
          this.shipped += batch.length;
        }
      } catch (err) {
        if (!(err instanceof ConnectError && err.code === Code.NotFound)) throw err;
        logger.debug({ workload, instance }, "control plane does not know this deployment here; skipping its output");
      }
      const before = this.cursors.get(instance);
      if (JSON.stringify(before) !== JSON.stringify(read.cursor)) {
        this.cursors.set(instance, read.cursor);
        changed = true;
      }
    }
    // Forget instances whose log files are gone (pruned).
    const present = new Set(outputs.map((o) => o.instance));
    for (const instance of [...this.cursors.keys()]) if (!present.has(instance)) changed = this.cursors.delete(instance) || changed;
    if (changed) await this.save();
  }

  private async save(): Promise<void> {
    await mkdir(dirname(this.deps.file), { recursive: true });
    const tmp = `${this.deps.file}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(this.cursors)));
    await rename(tmp, this.deps.file);
  }
}
