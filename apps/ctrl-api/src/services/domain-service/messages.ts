import { create } from "@bufbuild/protobuf";
import { ChallengeType, CustomDomainSchema, DomainVerificationRecordSchema, type CustomDomain } from "@ctrl/proto";
import type { CustomDomainView } from "./custom-domains.js";

/** The proto message of a custom domain view. */
export function toProto(view: CustomDomainView): CustomDomain {
  return create(CustomDomainSchema, {
    id: view.id,
    domain: view.domain,
    projectId: view.projectId,
    environmentId: view.environmentId,
    challengeType: view.challengeType === "dns-01" ? ChallengeType.DNS_01 : ChallengeType.HTTP_01,
    verificationStatus: view.verificationStatus,
    challengeStatus: view.challengeStatus,
    errorMessage: view.errorMessage,
    certificateExpiresAt: view.certificateExpiresAt === undefined ? undefined : BigInt(view.certificateExpiresAt),
    verificationRecord: create(DomainVerificationRecordSchema, view.verificationRecord),
    verificationError: view.verificationError,
    verifiedAt: view.verifiedAt === undefined ? undefined : BigInt(view.verifiedAt),
    state: view.state,
    routed: view.routed,
  });
}
