import { pino, type Logger } from "pino";

/** The agent's root logger; every line carries the region. */
export function createLogger(level: string, region: string): Logger {
  return pino({ level, base: { service: "krane", region } });
}
