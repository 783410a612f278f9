import { describe, expect, it } from "vitest";
import { decideControl, isTerminalRollout, terminalRolloutStates } from "./state.js";

describe("decideControl", () => {
  it("pauses an active rollout, resumes a paused or blocked one, cancels an unfinished one", () => {
    expect(decideControl("pause", "rolling", "active")).toEqual({ ok: true, control: "paused" });
    expect(decideControl("pause", "pending", "active")).toEqual({ ok: true, control: "paused" });
    expect(decideControl("resume", "rolling", "paused")).toEqual({ ok: true, control: "active" });
    expect(decideControl("resume", "blocked", "active")).toEqual({ ok: true, control: "active" });
    expect(decideControl("cancel", "blocked", "active")).toEqual({ ok: true, control: "cancel_requested" });
    expect(decideControl("cancel", "starting", "paused")).toEqual({ ok: true, control: "cancel_requested" });
  });

  it("refuses what makes no sense, saying what is legal", () => {
    expect(decideControl("pause", "rolling", "paused")).toMatchObject({ ok: false, reason: expect.stringContaining("already paused") });
    expect(decideControl("resume", "rolling", "active")).toMatchObject({ ok: false, reason: expect.stringContaining("not paused") });
    expect(decideControl("pause", "blocked", "active")).toMatchObject({
      ok: false,
      reason: expect.stringContaining("resume, cancel or roll back"),
    });
    expect(decideControl("pause", "rolling", "cancel_requested")).toMatchObject({
      ok: false,
      reason: expect.stringContaining("being cancelled"),
    });
    for (const state of terminalRolloutStates)
      for (const op of ["pause", "resume", "cancel"] as const)
        expect(decideControl(op, state, "active")).toMatchObject({ ok: false, reason: expect.stringContaining(state) });
  });

  it("knows which states are final", () => {
    expect(isTerminalRollout("stable")).toBe(true);
    expect(isTerminalRollout("blocked")).toBe(false);
  });
});
