import { describe, expect, it } from "vitest";
import { parseCliArgs, UsageError } from "./args.js";

// Guarantee: the halt commands parse as the issue names them, and a mistake names the fix.
describe("ctrl plans / supervise arguments", () => {
  it("parses plans set with image, height and environment", () => {
    expect(
      parseCliArgs(["plans", "set", "v2", "--image", "reg/app:2", "--min-height", "1200", "--env", "preview", "-p", "proj_1"]),
    ).toEqual({
      command: "plans",
      flags: {
        json: false,
        help: false,
        action: "set",
        name: "v2",
        image: "reg/app:2",
        minHeight: 1200,
        env: "preview",
        project: "proj_1",
      },
    });
  });

  it("parses plans ls and rm with production as the default environment", () => {
    expect(parseCliArgs(["plans", "ls"])).toMatchObject({ command: "plans", flags: { action: "ls", env: "production" } });
    expect(parseCliArgs(["plans", "rm", "v2"])).toMatchObject({ command: "plans", flags: { action: "rm", name: "v2" } });
  });

  it("refuses a set without --image, a bad height and an unknown action", () => {
    expect(() => parseCliArgs(["plans", "set", "v2"])).toThrow(/--image/);
    expect(() => parseCliArgs(["plans", "set", "v2", "--image", "x", "--min-height", "-1"])).toThrow(UsageError);
    expect(() => parseCliArgs(["plans", "add", "v2"])).toThrow(/set, ls or rm/);
  });

  it("parses supervise ack <id>", () => {
    expect(parseCliArgs(["supervise", "ack", "d_123"])).toEqual({
      command: "supervise",
      deploymentId: "d_123",
      flags: { json: false, help: false },
    });
    expect(() => parseCliArgs(["supervise", "d_123"])).toThrow(UsageError);
  });
});
