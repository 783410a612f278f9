/** ANSI colour codes used for process prefixes, in assignment order. */
const palette = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];
const levelNames: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const levelColours: Record<number, number> = { 10: 90, 20: 90, 30: 32, 40: 33, 50: 31, 60: 31 };
// pino's bookkeeping fields: shown by the prefix already, or noise in a terminal.
const hiddenKeys = new Set(["level", "time", "pid", "hostname", "msg", "service", "v"]);

/** Writes lines of many processes to one stream, each with an aligned, coloured `name │` prefix. */
export class LogMux {
  private readonly colours = new Map<string, number>();
  private width = 6;

  constructor(
    private readonly out: (text: string) => void,
    private readonly options: { colour: boolean; raw: boolean },
  ) {}

  /** Reserves a colour and widens the prefix column for `name`. */
  register(name: string): void {
    if (!this.colours.has(name)) this.colours.set(name, palette[this.colours.size % palette.length]!);
    this.width = Math.max(this.width, name.length);
  }

  /** Writes one line of output of `name` (pino JSON is shortened unless raw logs were asked for). */
  line(name: string, line: string): void {
    this.register(name);
    const plain = this.options.colour ? line : stripAnsi(line);
    const text = this.options.raw ? plain : formatPinoLine(plain, this.options.colour);
    const prefix = `${name.padEnd(this.width)} │`;
    for (const part of text.split("\n")) this.out(`${this.paint(this.colours.get(name)!, prefix)} ${part}\n`);
  }

  /** Colours `text` when colours are on. */
  paint(code: number, text: string): string {
    return this.options.colour ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
}

/**
 * Turns a pino JSON line into `LEVEL msg key=value …` (an `err` with a stack adds the stack on the
 * following lines). Anything that is not a pino line is returned unchanged.
 */
export function formatPinoLine(line: string, colour = false): string {
  if (!line.startsWith("{")) return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof record.level !== "number" || !("msg" in record || "time" in record)) return line;
  const levelName = levelNames[record.level] ?? String(record.level);
  const level = colour ? `\x1b[${levelColours[record.level] ?? 0}m${levelName.padEnd(5)}\x1b[0m` : levelName.padEnd(5);
  const parts = [level, typeof record.msg === "string" ? record.msg : ""];
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (hiddenKeys.has(key) || value === undefined) continue;
    if (key === "err" && value && typeof value === "object") {
      const err = value as { message?: unknown; stack?: unknown };
      parts.push(`err=${renderValue(err.message ?? value)}`);
      if (typeof err.stack === "string" && record.level >= 50) stack = err.stack;
      continue;
    }
    parts.push(`${key}=${renderValue(value)}`);
  }
  const text = parts.filter((p) => p !== "").join(" ");
  return stack ? `${text}\n${stack}` : text;
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) || value === "" ? JSON.stringify(value) : value;
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return JSON.stringify(value);
}

/** `text` without ANSI escape sequences (restate-server and s3rver colour their output). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

/** Replaces the signature and credential of presigned URLs in a log line (s3rver logs whole URLs). */
export function redactSignatures(line: string): string {
  return line.replace(/(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s]+/g, "$1REDACTED");
}
