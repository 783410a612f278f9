/** Units `--since` accepts, in milliseconds. */
const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--since`: a duration back from now (`90s`, `10m`, `2h`, `1d`, or combined like `1h30m`) or an
 * ISO timestamp (`2026-01-02T03:04:05Z`). Returns the Unix ms it starts at, or undefined when the
 * text is neither.
 */
export function parseSince(text: string, now: number): number | undefined {
  const trimmed = text.trim();
  if (/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) {
    let total = 0;
    for (const [, n, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(n) * units[unit!]!;
    return now - total;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const at = Date.parse(trimmed);
    return Number.isNaN(at) ? undefined : at;
  }
  return undefined;
}
