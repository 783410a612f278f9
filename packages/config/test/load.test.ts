import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, createLogger, loadConfig, loggingConfigSchema } from "../src/index.js";

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(7070),
  TOKEN: z.string({ error: "TOKEN is required: generate one" }).min(32, "TOKEN must be at least 32 characters"),
  ...loggingConfigSchema.shape,
});
const source = { service: "demo", schemaFile: "apps/demo/src/config.ts" };

// Guarantee: a service refuses to start with one message that names every bad or missing variable
// (so one restart fixes them all), the service, and where the variables are documented.
describe("loadConfig", () => {
  it("parses with defaults and coercion", () => {
    expect(loadConfig(schema, { TOKEN: "x".repeat(32), PORT: "80" }, source)).toEqual({
      PORT: 80,
      TOKEN: "x".repeat(32),
      LOG_LEVEL: "info",
    });
  });

  it("names every bad variable at once, the service and the schema file", () => {
    let caught: unknown;
    try {
      loadConfig(schema, { PORT: "70000", LOG_LEVEL: "loud" }, source);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as Error).message;
    expect(message).toMatch(/^demo: invalid configuration:\n/);
    expect(message).toContain("  PORT: ");
    expect(message).toContain("  TOKEN: TOKEN is required: generate one");
    expect(message).toContain("  LOG_LEVEL: ");
    expect(message).toMatch(/\nSet the variables above \(see apps\/demo\/src\/config\.ts\) and start again\.$/);
    expect((caught as ConfigError).issues.map((i) => i.path.join("."))).toEqual(["PORT", "TOKEN", "LOG_LEVEL"]);
  });

  it("reports a refinement's own message", () => {
    expect(() => loadConfig(schema, { TOKEN: "short" }, source)).toThrow("  TOKEN: TOKEN must be at least 32 characters");
  });
});

describe("createLogger", () => {
  it("writes service first, then the base ids, and redacts the given paths", () => {
    const lines: string[] = [];
    const destination = { write: (line: string) => void lines.push(line) };
    const logger = createLogger({ service: "demo", level: "info", base: { region: "eu" }, redact: ["headers.authorization"], destination });
    logger.info({ headers: { authorization: "Bearer secret" } }, "hello");
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(line).slice(0, 4)).toEqual(["level", "time", "service", "region"]);
    expect(line).toMatchObject({ service: "demo", region: "eu", msg: "hello", headers: { authorization: "[redacted]" } });
  });
});
