import {
  beginRolloutWebhookAttempt,
  findRolloutWebhook,
  markRolloutWebhookDelivered,
  markRolloutWebhookUnknown,
  recordRolloutWebhookFailure,
} from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import { sentinelRolloutNotifierName } from "../../contract.js";
import type { WorkerDeps } from "../../deps.js";
import { resolveSettings } from "../../settings.js";
import type { RolloutEvent } from "./api.js";

const loopbackHosts = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * Why `url` may not receive rollout notifications, or undefined when it may: https anywhere, or
 * http only to a loopback address (local use). No credentials in the URL, at most 2048 characters.
 */
export function webhookUrlProblem(url: unknown): string | undefined {
  if (typeof url !== "string" || url.length === 0) return "webhook_url must be a URL";
  if (url.length > 2048) return "webhook_url must be at most 2048 characters";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "webhook_url is not a valid URL";
  }
  if (parsed.username || parsed.password) return "webhook_url must not carry credentials (user:password@)";
  if (parsed.protocol === "https:") return undefined;
  if (parsed.protocol === "http:" && loopbackHosts.has(parsed.hostname)) return undefined;
  return "webhook_url must be https, or http to a loopback address (127.0.0.1, ::1, localhost)";
}

/** What may be logged or shown of a webhook URL: scheme and host (paths often carry the secret). */
export function webhookHost(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

/** Input of `SentinelRolloutNotifier.notify`. */
export interface NotifyRequest {
  url: string;
  event: RolloutEvent;
}

/**
 * What one delivery step found: this POST delivered it; the record says it was delivered already;
 * or the record says a POST was under way when the worker died (whether it arrived is unknown).
 */
type DeliveryOutcome = "delivered" | "already_delivered" | "unknown";

/**
 * SentinelRolloutNotifier — virtual object, key = rollout id; ingress-private. Delivers a
 * rollout's webhooks in the order they were issued (exclusive per rollout); the rollout sends one
 * invocation per notification, idempotency-keyed by its event id, and never waits for it.
 *
 * Once across crashes: the delivery record in MySQL (`sentinel_rollout_webhooks`, keyed by the
 * event id) is read before each POST, marked in flight just before it and `delivered` right after
 * the receiver's 2xx (or the failure recorded), all inside one journaled step. When the worker dies
 * and Restate replays the step, the replay reads the record: delivered → no POST; a POST was in
 * flight → no POST either (the receiver may have it: a duplicate is what we avoid), recorded
 * `unknown`. So a crash never sends a notification twice; the one way to lose one is a crash while
 * the request is still on its way (marked in flight, not yet read by the receiver: one network
 * trip, well under a millisecond on loopback), and the record then says `unknown`.
 * Known failures (5xx, 429, network errors, the timeout) are retried a bounded number of times
 * (`ROLLOUT_WEBHOOK_MAX_ATTEMPTS`), then given up; a receiver slower than
 * `ROLLOUT_WEBHOOK_TIMEOUT_MS` that still processes the request can see it again — receivers
 * de-duplicate on the `X-Ctrl-Event-Id` header / `id` field for that.
 */
export function createSentinelRolloutNotifier(deps: WorkerDeps) {
  const settings = resolveSettings(deps.settings);
  const { db } = deps;
  return restate.object({
    name: sentinelRolloutNotifierName,
    handlers: {
      notify: async (ctx: restate.ObjectContext, req: NotifyRequest): Promise<{ delivered: boolean }> => {
        const host = webhookHost(req.url);
        const ref = { eventId: req.event.id, rolloutId: req.event.rollout_id, seq: req.event.seq, event: req.event.event };
        const log = { rolloutId: ctx.key, webhook: host, eventId: ref.eventId, event: ref.event };
        try {
          const outcome = await ctx.run(
            `webhook ${req.event.seq} ${req.event.event}`,
            async (): Promise<DeliveryOutcome> => {
              const prior = await findRolloutWebhook(db, ref.eventId);
              if (prior?.status === "delivered") return "already_delivered";
              if (prior?.status === "unknown" || prior?.in_flight) {
                await markRolloutWebhookUnknown(db, ref.eventId, Date.now());
                return "unknown";
              }
              await beginRolloutWebhookAttempt(db, ref, Date.now());
              try {
                await post(req, host, settings.webhookTimeoutMs);
              } catch (err) {
                const givenUp = err instanceof restate.TerminalError;
                await persistently(() => recordRolloutWebhookFailure(db, ref.eventId, (err as Error).message, givenUp, Date.now()));
                throw err;
              }
              // Right after the 2xx, before anything else.
              await persistently(() => markRolloutWebhookDelivered(db, ref.eventId, Date.now()));
              return "delivered";
            },
            { maxRetryAttempts: settings.webhookMaxAttempts, initialRetryInterval: 200, maxRetryInterval: 5_000 },
          );
          if (outcome === "already_delivered") ctx.console.info(log, "rollout webhook already delivered; not sent again");
          if (outcome === "unknown")
            ctx.console.warn(log, "rollout webhook was being sent when the worker died; not sent again (it may not have arrived)");
          return { delivered: outcome !== "unknown" };
        } catch (err) {
          if (!(err instanceof restate.TerminalError) || err instanceof restate.CancelledError) throw err;
          await ctx.run("record given up", () => recordRolloutWebhookFailure(db, ref.eventId, err.message, true, Date.now()));
          ctx.console.warn({ ...log, err: err.message }, "rollout webhook given up");
          return { delivered: false };
        }
      },
    },
    options: { ingressPrivate: true },
  });
}

/** One POST of the notification; throws (retryable on 5xx/429 and network errors, terminal on other 4xx). */
async function post(req: NotifyRequest, host: string, timeoutMs: number): Promise<void> {
  const res = await fetch(req.url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-ctrl-event-id": req.event.id },
    body: JSON.stringify(req.event),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: "error",
  });
  await res.body?.cancel();
  if (res.status >= 500 || res.status === 429) throw new Error(`webhook ${host} answered ${res.status}`);
  if (res.status >= 400) throw new restate.TerminalError(`webhook ${host} refused the notification with ${res.status}`);
}

/**
 * Writes a delivery record, retrying a short while: the record is what keeps a replay from POSTing
 * again, and a failure here must not fail the step (that would POST again). If it still fails,
 * the step's journal entry is the record.
 */
async function persistently(write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch {
      if (attempt >= 3) return;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}
