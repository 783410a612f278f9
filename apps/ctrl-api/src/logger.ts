import { pino, type Logger } from "pino";

/** The process logger: key/value JSON lines with the request id; never a secret or URL signature. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "ctrl-api" },
    redact: { paths: ["req.headers.authorization", "headers.authorization", "uploadUrl"], censor: "[redacted]" },
  });
}
