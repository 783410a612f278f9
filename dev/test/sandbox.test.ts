import { describe, expect, it } from "vitest";
import { sandboxProblem } from "../src/sandbox.js";

// `pnpm dev` stops before starting anything when bubblewrap is missing, and says how to install it.
describe("pnpm dev's sandbox check", () => {
  it("passes where bwrap is installed and works", () => {
    expect(sandboxProblem({ PATH: process.env.PATH ?? "/usr/bin:/bin" })).toBeUndefined();
  });

  it("names the apt command when bwrap is not on PATH", () => {
    expect(sandboxProblem({ PATH: "/nonexistent" })).toMatch(/sudo apt-get install -y bubblewrap/);
  });

  it("is skipped by the explicit opt-out KRANE_SANDBOX=none", () => {
    expect(sandboxProblem({ PATH: "/nonexistent", KRANE_SANDBOX: "none" })).toBeUndefined();
  });
});
