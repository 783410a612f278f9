import { create } from "@bufbuild/protobuf";
import { DeploymentHaltSchema } from "@ctrl/proto";
import { describe, expect, it } from "vitest";
import { formatHalt } from "./halt-format.js";

// Guarantee: `ctrl status` says in one line why a deployment halted and where the supervisor stands.
describe("formatHalt", () => {
  it("names the reason, the facts and the waiting condition", () => {
    const line = formatHalt(
      create(DeploymentHaltSchema, {
        reason: "upgrade_required",
        exitCode: 70,
        planName: "v2",
        height: 1200n,
        action: "upgrade",
        state: "waiting_for_plan",
        condition: "image_mapping_missing",
        message: "no upgrade plan v2 maps an image",
      }),
    );
    expect(line).toBe(
      "halted: needs an upgrade (exit 70, plan v2, height 1200) — waiting for an upgrade plan: image_mapping_missing: no upgrade plan v2 maps an image",
    );
    expect(line).not.toContain("\n");
  });

  it("shows a live intent and what replaced it", () => {
    const line = formatHalt(
      create(DeploymentHaltSchema, { reason: "binary_too_new", action: "rollback", state: "halted", replacedByDeploymentId: "d_prev" }),
    );
    expect(line).toBe("halted: binary too new for its state (announced on its status path) — done → d_prev");
  });
});
