import { describe, expect, it } from "vitest";
import { defaultWorkerSettings, resolveSettings } from "./settings.js";

// Guarantee: a worker started with an empty environment and a test that passes no settings run with
// the same tunables, because the defaults are config.ts's (one place for each default).
describe("worker settings", () => {
  it("defaults to config.ts's defaults for the local stack", () => {
    expect(defaultWorkerSettings).toEqual({
      regions: ["local"],
      apexDomain: "ctrl.localhost",
      readinessTimeoutMs: 120_000,
      readinessPollMs: 1_000,
      openapiPath: "/openapi.json",
      openapiTimeoutMs: 5_000,
      openapiMaxBytes: 1_048_576,
      sentinelImage: undefined,
      sentinelDeployTimeoutMs: 120_000,
      webhookMaxAttempts: 5,
      webhookTimeoutMs: 5_000,
      rolloutControlPollMs: 2_000,
      previousScaleDownDelayMs: null,
      haltPaging: { pagerDutyUrl: "", pagerDutyRoutingKey: "", slackWebhookUrl: "" },
    });
  });

  it("fills a partial object's gaps with the defaults", () => {
    expect(resolveSettings({ readinessTimeoutMs: 2_000 })).toEqual({ ...defaultWorkerSettings, readinessTimeoutMs: 2_000 });
    expect(resolveSettings(undefined)).toEqual(defaultWorkerSettings);
  });
});
