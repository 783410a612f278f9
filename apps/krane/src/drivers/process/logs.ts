import { copyFile, open, rename, rm, stat, truncate, type FileHandle } from "node:fs/promises";

/**
 * Rotates an instance's log in place (copy-then-truncate): the instance keeps writing to the same
 * file descriptor opened with O_APPEND, so it survives agent restarts and needs no signal. Lines
 * written between the copy and the truncate can be lost; that is the accepted price.
 * Keeps `<file>.1` … `<file>.<keep>`.
 */
export async function rotateIfLarge(file: string, maxBytes: number, keep: number): Promise<boolean> {
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size <= maxBytes) return false;
  await rm(`${file}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => undefined);
  await copyFile(file, `${file}.1`);
  await truncate(file, 0);
  return true;
}

/** The last `lines` lines of an instance's log, reading back into `<file>.1` when the current file is short. */
export async function tailLog(file: string, lines: number): Promise<string[]> {
  const current = await tailFile(file, lines);
  if (current.length >= lines) return current;
  const previous = await tailFile(`${file}.1`, lines - current.length);
  return [...previous, ...current];
}

async function tailFile(file: string, lines: number): Promise<string[]> {
  if (lines <= 0) return [];
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, "r");
  } catch {
    return [];
  }
  try {
    const { size } = await fh.stat();
    // Read backwards in chunks until enough newlines are seen (logs can be large).
    const chunk = 64 * 1024;
    let pos = size;
    let text = "";
    while (pos > 0) {
      const len = Math.min(chunk, pos);
      pos -= len;
      const { buffer } = await fh.read(Buffer.alloc(len), 0, len, pos);
      text = buffer.toString("utf8") + text;
      if (text.split("\n").length > lines + 1) break;
    }
    const all = text.split("\n");
    if (all[all.length - 1] === "") all.pop();
    return all.slice(-lines);
  } finally {
    await fh.close();
  }
}
