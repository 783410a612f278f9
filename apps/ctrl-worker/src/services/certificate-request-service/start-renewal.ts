import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import { certificateServiceName, renewalKey, type CertificateServiceApi } from "../certificate-service/api.js";
import { DAY_MS } from "../certificate-service/deps.js";
import type { CertificateRequestResult, StartRenewalRequest } from "./api.js";

/**
 * `CertificateRequestService.startRenewal`: starts the day's `CertificateService.renewExpiring`
 * run (key `"global"`). Only today or tomorrow (clock skew between replicas around midnight) is
 * accepted: a far-future day would make the job skip every day up to it (it runs once per day and
 * never for a day before the last one it ran).
 */
export async function startRenewal(ctx: restate.Context, req: StartRenewalRequest): Promise<CertificateRequestResult> {
  const today = Math.floor((await ctx.date.now()) / DAY_MS);
  const day = req?.day;
  if (typeof day !== "number" || !Number.isInteger(day) || day < today || day > today + 1) {
    throw terminal("invalid_argument", `day must be today's day number (${today}) or the next one`);
  }
  ctx.objectSendClient<CertificateServiceApi>({ name: certificateServiceName }, renewalKey).renewExpiring({ day });
  return { key: renewalKey, handler: "renewExpiring" };
}
