import { pino, type Logger } from "pino";

/** The process logger: key/value JSON lines; never a secret or a presigned URL signature. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "ctrl-worker" } });
}
