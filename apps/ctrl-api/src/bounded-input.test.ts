/**
 * requestMessageProblem: unknown enum numbers (top level, nested, in lists) and 64-bit integers a JS
 * number cannot hold exactly are reported with the field's path; declared values and exact integers
 * pass. JSON numbers that JSON.parse already rounded (beyond 2^53) are caught too.
 */
import { create, fromJsonString } from "@bufbuild/protobuf";
import {
  AddCustomDomainRequestSchema,
  type ChallengeType,
  type ReportDeploymentStatusRequest_Update_Instance_Status as Status,
  GetDeploymentLogsRequestSchema,
  ReportDeploymentStatusRequestSchema,
  ReportSentinelStatusRequest_Health,
  ReportSentinelStatusRequestSchema,
  WatchDeploymentsRequestSchema,
} from "@ctrl/proto";
import { describe, expect, it } from "vitest";
import { requestMessageProblem } from "./bounded-input.js";

describe("requestMessageProblem", () => {
  it("accepts declared enum values and exact integers", () => {
    expect(
      requestMessageProblem(
        ReportSentinelStatusRequestSchema,
        create(ReportSentinelStatusRequestSchema, { health: ReportSentinelStatusRequest_Health.HEALTHY }),
      ),
    ).toBeUndefined();
    expect(
      requestMessageProblem(
        GetDeploymentLogsRequestSchema,
        create(GetDeploymentLogsRequestSchema, { afterSeq: BigInt(Number.MAX_SAFE_INTEGER) }),
      ),
    ).toBeUndefined();
    expect(
      requestMessageProblem(
        GetDeploymentLogsRequestSchema,
        create(GetDeploymentLogsRequestSchema, { afterSeq: -BigInt(Number.MAX_SAFE_INTEGER) }),
      ),
    ).toBeUndefined();
  });

  it("names a top-level enum field holding an undeclared number", () => {
    const problem = requestMessageProblem(
      ReportSentinelStatusRequestSchema,
      create(ReportSentinelStatusRequestSchema, { health: 99 as ReportSentinelStatusRequest_Health }),
    );
    expect(problem).toMatch(/^health: 99 is not a value of ctrl\.v1\.ReportSentinelStatusRequest\.Health/);
    expect(
      requestMessageProblem(AddCustomDomainRequestSchema, create(AddCustomDomainRequestSchema, { challengeType: -3 as ChallengeType })),
    ).toMatch(/^challenge_type: -3/);
  });

  it("names an enum inside a oneof and a list by its path", () => {
    const msg = create(ReportDeploymentStatusRequestSchema, {
      change: {
        case: "update",
        value: {
          k8sName: "d",
          instances: [
            { k8sName: "a", status: 2 },
            { k8sName: "b", status: 42 as Status },
          ],
        },
      },
    });
    expect(requestMessageProblem(ReportDeploymentStatusRequestSchema, msg)).toMatch(/^update\.instances\[1\]\.status: 42 is not a value/);
  });

  it("refuses 64-bit integers beyond 2^53-1, from binary-shaped values and from JSON strings and numbers", () => {
    expect(
      requestMessageProblem(WatchDeploymentsRequestSchema, create(WatchDeploymentsRequestSchema, { versionLastSeen: 2n ** 60n })),
    ).toMatch(/^version_last_seen: 1152921504606846976 is beyond/);
    const fromString = fromJsonString(GetDeploymentLogsRequestSchema, '{"afterSeq":"9007199254740993"}');
    expect(fromString.afterSeq).toBe(9007199254740993n); // parsed exactly, then refused
    expect(requestMessageProblem(GetDeploymentLogsRequestSchema, fromString)).toMatch(/^after_seq: 9007199254740993 is beyond/);
    // JSON.parse rounds this literal to 2^53 before protobuf sees it; the check still refuses it.
    const fromNumber = fromJsonString(GetDeploymentLogsRequestSchema, '{"afterSeq":9007199254740993}');
    expect(requestMessageProblem(GetDeploymentLogsRequestSchema, fromNumber)).toMatch(/^after_seq: 9007199254740992 is beyond/);
  });
});
