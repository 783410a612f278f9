/** Human-readable byte count: `512 B`, `1.5 KiB`, `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** One line of an upload progress bar: `[=========>          ]  45%  1.2 MiB / 2.6 MiB`. */
export function renderProgressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(ratio * width);
  const bar = filled >= width ? "=".repeat(width) : `${"=".repeat(filled)}>${" ".repeat(width - filled - 1)}`;
  return `[${bar}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}`;
}

/** Draws a progress bar on a TTY (redrawn in place, at most every 50 ms) or stays silent elsewhere. */
export function progressReporter(stream: NodeJS.WriteStream, total: number, label: string): { update(done: number): void; finish(): void } {
  const tty = Boolean(stream.isTTY);
  let last = 0;
  let done = 0;
  const draw = () => stream.write(`\r${label} ${renderProgressBar(done, total)}`);
  return {
    update(n) {
      done = n;
      const now = Date.now();
      if (tty && now - last >= 50) {
        last = now;
        draw();
      }
    },
    finish() {
      if (tty) {
        done = total;
        draw();
        stream.write("\n");
      }
    },
  };
}
