import { describe, expect, it } from "vitest";
import { deployment } from "../../../test/helpers.js";
import { instanceName, specHash } from "./driver.js";

describe("spec hash and names", () => {
  it("changes with what instances are started from, not with replicas or env order", () => {
    const a = deployment("x", "img", { env: { A: "1", B: "2" } });
    expect(specHash({ ...a, replicas: 5 })).toBe(specHash(a));
    expect(specHash({ ...a, env: { B: "2", A: "1" } })).toBe(specHash(a));
    expect(specHash({ ...a, image: "img2" })).not.toBe(specHash(a));
    expect(specHash({ ...a, command: ["x"] })).not.toBe(specHash(a));
    expect(specHash({ ...a, memoryMib: 1 })).not.toBe(specHash(a));
    expect(instanceName("d_1", 2)).toBe("d_1-2");
  });
});
