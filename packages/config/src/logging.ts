import { pino, type DestinationStream, type Logger } from "pino";
import { z } from "zod";

/** pino's levels; `silent` turns logging off. */
export const logLevels = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** The logging variables every service has. */
export const loggingConfigSchema = z.object({
  /** pino log level (`debug` makes frontline and sentinels log every request). */
  LOG_LEVEL: z.enum(logLevels).default("info"),
});

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Written as `service` on every line. */
  service: string;
  level: string;
  /** More fields on every line after `service` (region, sentinel id …). */
  base?: Record<string, string>;
  /** Paths whose values are written as `[redacted]` (headers that carry a secret, presigned URLs). */
  redact?: string[];
  /** Where lines go (default stdout); tests capture them. */
  destination?: DestinationStream;
}

/** A service's process logger: key/value JSON lines with `service` and the `base` ids; never a secret. */
export function createLogger(options: LoggerOptions): Logger {
  const pinoOptions = {
    level: options.level,
    base: { service: options.service, ...options.base },
    ...(options.redact ? { redact: { paths: options.redact, censor: "[redacted]" } } : {}),
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}
