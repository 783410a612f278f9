import { describe, expect, it } from "vitest";
import { pendingHint } from "./readiness.js";

describe("pendingHint", () => {
  it("names the first pending instance's probe result and the $PORT hint, or nothing", () => {
    const base = { regions: [], failures: [], runningAddress: null };
    expect(pendingHint(base)).toBe("");
    expect(pendingHint({ ...base, pendingReasons: [] })).toBe("");
    expect(
      pendingHint({
        ...base,
        pendingReasons: [
          { k8sName: "d_1-0", region: "local", reason: "health check GET /health on port 20001 (the instance's $PORT): ECONNREFUSED" },
        ],
      }),
    ).toBe(
      "; d_1-0 in local: health check GET /health on port 20001 (the instance's $PORT): ECONNREFUSED. Hint: the app must listen on $PORT (the agent sets it) and answer its health path with 200",
    );
  });
});
