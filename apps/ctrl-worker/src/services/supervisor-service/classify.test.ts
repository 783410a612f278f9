import { describe, expect, it } from "vitest";
import { classifyHalt } from "./classify.js";

// Guarantee: each exit code and each intent reaches its branch; anything else is left to the crash handling.
describe("classifyHalt", () => {
  it("maps exit codes 70/71/72 to their reasons and actions", () => {
    expect(classifyHalt({ instance: "i", exitCode: 70 })).toMatchObject({
      reason: "upgrade_required",
      action: "upgrade",
      planName: "default",
    });
    expect(classifyHalt({ instance: "i", exitCode: 71 })).toMatchObject({ reason: "binary_too_new", action: "rollback", planName: null });
    expect(classifyHalt({ instance: "i", exitCode: 72 })).toMatchObject({ reason: "downgrade_detected", action: "wait_for_human" });
  });

  it("lets a live intent decide without an exit code, keeping its plan and height", () => {
    expect(
      classifyHalt({ instance: "i", intent: { reason: "upgrade_required", planName: "v2", height: 1200, info: "at height" } }),
    ).toEqual({ reason: "upgrade_required", action: "upgrade", exitCode: null, planName: "v2", height: 1200, info: "at height" });
  });

  it("prefers the intent's reason over the exit code", () => {
    expect(classifyHalt({ instance: "i", exitCode: 70, intent: { reason: "downgrade_detected" } })?.reason).toBe("downgrade_detected");
  });

  it("is not a halt for other exit codes or unknown reasons", () => {
    expect(classifyHalt({ instance: "i", exitCode: 1 })).toBeUndefined();
    expect(classifyHalt({ instance: "i", exitCode: 137, intent: { reason: "bored" } })).toBeUndefined();
    expect(classifyHalt({ instance: "i" })).toBeUndefined();
  });
});
