import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CtrlService, DeploymentService } from "@ctrl/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
}, 60_000);
afterAll(async () => stack?.close());

describe("smoke", () => {
  it("liveness without auth, upload url with the token", async () => {
    const transport = createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" });
    const live = await createClient(CtrlService, transport).liveness({});
    expect(live.status).toBe("ok");
    const res = await createClient(DeploymentService, transport).createS3UploadURL(
      { unkeyProjectId: stack.seed.projectId },
      { headers: { authorization: `Bearer ${stack.operatorToken}` } },
    );
    expect(res.buildContextPath).toMatch(new RegExp(`^${stack.seed.projectId}/build_[A-Za-z0-9]+\\.tar\\.gz$`));
  });
});
