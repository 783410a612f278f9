import { create } from "@bufbuild/protobuf";
import { DeploymentSchema, DeploymentStatus } from "@ctrl/proto";
import { describe, expect, it } from "vitest";
import { formatDeploymentList } from "./list-format.js";

describe("formatDeploymentList", () => {
  it("has a header and an environment column, and marks the live deployment", () => {
    const at = BigInt(Date.parse("2026-01-02T03:04:05Z"));
    const text = formatDeploymentList([
      create(DeploymentSchema, {
        id: "d_new",
        environmentSlug: "preview",
        status: DeploymentStatus.BUILDING,
        gitBranch: "feature/x",
        createdAt: at,
      }),
      create(DeploymentSchema, {
        id: "d_live",
        environmentSlug: "production",
        status: DeploymentStatus.READY,
        gitBranch: "main",
        gitCommitSha: "abcdef123",
        createdAt: at,
        hostnames: ["p-production.example"],
        live: true,
      }),
    ]);
    expect(text.split("\n")).toEqual([
      "   ID      ENV         STATUS    BRANCH     COMMIT   CREATED               URL",
      "   d_new   preview     BUILDING  feature/x  -        2026-01-02T03:04:05Z",
      "*  d_live  production  READY     main       abcdef1  2026-01-02T03:04:05Z  p-production.example",
      "",
      "* live: what the project's live domains serve",
    ]);
  });
});
