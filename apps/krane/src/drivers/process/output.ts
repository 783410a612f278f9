import { randomBytes } from "node:crypto";
import { open, readdir, stat } from "node:fs/promises";
import type { OutputCursor, OutputLine, OutputRead } from "../../sync/log-shipper.js";
import type { DataLayout } from "./layout.js";

/** A deployment instance's name → its workload (`<workload>-<ordinal>` or a surge's `<workload>-<ordinal>-<hex>`). */
export function workloadOfInstance(instance: string): string | undefined {
  return /^(.+?)-\d+(?:-[0-9a-f]{6})?$/.exec(instance)?.[1];
}

/** Every deployment instance with a log file: `logs/deployment--<instance>.log`. */
export async function listDeploymentOutputs(layout: DataLayout): Promise<{ workload: string; instance: string }[]> {
  const files = await readdir(layout.path("logs")).catch(() => [] as string[]);
  const out: { workload: string; instance: string }[] = [];
  for (const f of files) {
    const m = /^deployment--(.+)\.log$/.exec(f);
    const workload = m ? workloadOfInstance(m[1]!) : undefined;
    if (m && workload) out.push({ workload, instance: m[1]! });
  }
  return out;
}

/**
 * Complete lines of an instance's log after `cursor`, at most about `maxBytes` of them. The log is
 * rotated by copy-then-truncate (logs.ts): when `<file>.1` is a new file since the cursor (another
 * inode), the rest of the old content is read from it first, then the current file from 0.
 * Positions count bytes of the cursor's stream (`base` + offset), so a line keeps its position across
 * rotations and a retried push is recognised.
 */
export async function readOutputSince(file: string, cursor: OutputCursor | undefined, maxBytes: number): Promise<OutputRead> {
  const rotatedIno = await stat(`${file}.1`).then(
    (s) => s.ino,
    () => 0,
  );
  // First sight: start at the beginning of the current file, and remember which rotated file exists.
  const from: OutputCursor = cursor ?? { stream: newStream(), base: 0, offset: 0, rotatedIno };
  const lines: OutputLine[] = [];
  let next = { ...from };
  if (cursor && rotatedIno !== 0 && rotatedIno !== cursor.rotatedIno) {
    const rest = await readLines(`${file}.1`, from.offset, maxBytes, true);
    for (const l of rest.lines) lines.push({ stream: from.stream, position: from.base + l.offset, line: l.line });
    if (!rest.complete) return { lines, cursor: { ...from, offset: rest.end } };
    next = { stream: from.stream, base: from.base + rest.end, offset: 0, rotatedIno };
  }
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  // Shorter than what was read without a new rotated file: the file was replaced (recreated after
  // a prune). Its output starts over as a new stream, so its positions do not collide with the old one's.
  if (size < next.offset) next = { stream: newStream(), base: 0, offset: 0, rotatedIno };
  const current = await readLines(file, next.offset, maxBytes, false);
  for (const l of current.lines) lines.push({ stream: next.stream, position: next.base + l.offset, line: l.line });
  return { lines, cursor: { ...next, offset: current.end, rotatedIno } };
}

/** Names one continuous output of an instance (unique enough per instance). */
function newStream(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
}

/**
 * Lines of `file` from byte `start`: only complete ones (a trailing partial line waits for its
 * newline) unless `toEnd`, or one line alone fills `maxBytes`. `end` is where the next read starts.
 */
async function readLines(
  file: string,
  start: number,
  maxBytes: number,
  toEnd: boolean,
): Promise<{ lines: { offset: number; line: string }[]; end: number; complete: boolean }> {
  const fh = await open(file, "r").catch(() => undefined);
  if (!fh) return { lines: [], end: start, complete: true };
  try {
    const { size } = await fh.stat();
    const len = Math.min(size - start, maxBytes);
    if (len <= 0) return { lines: [], end: start, complete: true };
    const { buffer } = await fh.read(Buffer.alloc(len), 0, len, start);
    const complete = start + len === size;
    let usable = len;
    if (!(toEnd && complete)) {
      usable = buffer.lastIndexOf(0x0a) + 1;
      // One line longer than maxBytes: ship what was read rather than wait forever.
      if (usable === 0 && len === maxBytes) usable = len;
    }
    const lines: { offset: number; line: string }[] = [];
    let at = 0;
    while (at < usable) {
      const nl = buffer.indexOf(0x0a, at);
      const stop = nl === -1 || nl >= usable ? usable : nl;
      lines.push({ offset: start + at, line: buffer.subarray(at, stop).toString("utf8") });
      at = stop + 1;
    }
    return { lines, end: start + usable, complete: complete && usable === len };
  } finally {
    await fh.close();
  }
}
