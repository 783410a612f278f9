import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatWorkerError, parseWorkerError, workerErrorCodeOf, workerErrorStatus, type WorkerErrorCode } from "./contract.js";
import { terminal } from "./errors.js";

describe("contract.ts", () => {
  it("imports nothing, so ctrl-api can load it without loading worker code", () => {
    const source = readFileSync(new URL("./contract.ts", import.meta.url), "utf8");
    expect(source).not.toMatch(/^\s*(import|export .* from)\b/m);
    expect(source).not.toMatch(/\brequire\(|\bimport\(/);
  });

  it.each(Object.entries(workerErrorStatus) as [WorkerErrorCode, number][])(
    "carries %s as HTTP %i and reads it back from the status",
    (code, status) => {
      const err = terminal(code, "deployment d_1 is odd");
      expect(err.code).toBe(status);
      expect(err.message).toBe(`${code}: deployment d_1 is odd`);
      expect(parseWorkerError(err.code, err.message)).toEqual({ code, message: "deployment d_1 is odd" });
      expect(workerErrorCodeOf(err.message)).toBe(code);
    },
  );

  it("reads the code from the status, not from the message", () => {
    expect(parseWorkerError(404, "no prefix here")).toEqual({ code: "not_found", message: "no prefix here" });
    expect(parseWorkerError(500, formatWorkerError("not_found", "x"))).toBeUndefined();
    expect(workerErrorCodeOf("internal: x")).toBeUndefined();
  });
});
