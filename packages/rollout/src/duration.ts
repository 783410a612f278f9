/** Milliseconds per duration unit accepted in policies (`500ms`, `30s`, `5m`, `1h`, `1m30s`). */
const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;

/**
 * Parses a duration such as `60s`, `1m30s` or `250ms` into milliseconds; `0` alone is zero.
 * Undefined when the text is not a duration (no unit, negative, unknown unit, trailing garbage).
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  if (trimmed === "") return undefined;
  part.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(trimmed); match; match = part.exec(trimmed)) {
    total += Number(match[1]) * (unitMs[match[2] as string] as number);
    consumed = part.lastIndex;
  }
  return consumed === trimmed.length ? Math.round(total) : undefined;
}

/** The shortest text {@link parseDuration} reads back as `ms` (`90000` → `1m30s`, `0` → `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.round(ms);
  let text = "";
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
    ["ms", 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}
