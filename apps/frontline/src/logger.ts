import { pino, type Logger } from "pino";

/** The process logger: key/value JSON lines with host and deployment ids; never a header value or secret. */
export function createLogger(level: string, base: Record<string, string> = {}): Logger {
  return pino({ level, base: { service: "frontline", ...base } });
}
