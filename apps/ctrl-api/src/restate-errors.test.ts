import { Code, ConnectError } from "@connectrpc/connect";
import { HttpCallError } from "@restatedev/restate-sdk-clients";
import { describe, expect, it } from "vitest";
import { connectErrorFromRestate } from "./restate-errors.js";

const invocation = (status: number, message: string) =>
  new HttpCallError(status, JSON.stringify({ code: status, message, source: "invocation" }), `Request failed: ${status}`);

describe("connectErrorFromRestate", () => {
  it.each([
    [400, "invalid_argument: source and target are the same", Code.InvalidArgument, "source and target are the same"],
    [403, "permission_denied: nope", Code.PermissionDenied, "nope"],
    [404, "not_found: deployment d_1 not found", Code.NotFound, "deployment d_1 not found"],
    [409, "already_exists: twice", Code.AlreadyExists, "twice"],
    [412, "failed_precondition: target is not ready", Code.FailedPrecondition, "target is not ready"],
  ])("maps a TerminalError %i to its precise code and strips the prefix", (status, message, code, stripped) => {
    const err = connectErrorFromRestate(invocation(status, message), "rollback");
    expect(err.code).toBe(code);
    expect(err.rawMessage).toBe(stripped);
  });

  it("keeps an unexpected invocation failure internal", () => {
    expect(connectErrorFromRestate(invocation(500, "boom"), "rollback").code).toBe(Code.Internal);
  });

  it("never turns an ingress refusal (service not registered) into not_found", () => {
    const err = new HttpCallError(
      404,
      JSON.stringify({ code: 404, message: "service 'DeploymentService' not found", source: "ingress" }),
      "x",
    );
    expect(connectErrorFromRestate(err, "rollback").code).toBe(Code.Unavailable);
  });

  it("treats a network failure as unavailable and passes ConnectErrors through", () => {
    expect(connectErrorFromRestate(new TypeError("fetch failed"), "submit").code).toBe(Code.Unavailable);
    const ce = new ConnectError("x", Code.NotFound);
    expect(connectErrorFromRestate(ce, "x")).toBe(ce);
  });
});
