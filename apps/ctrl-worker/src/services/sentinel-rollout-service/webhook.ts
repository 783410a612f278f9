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
 * SentinelRolloutNotifier — virtual object, key = rollout id; ingress-private. Delivers a
 * rollout's webhooks in the order they were issued (exclusive per rollout), each as one journaled
 * step: once a delivery is acknowledged it is never sent again, even if the worker dies and
 * replays. A failing webhook is retried a bounded number of times and then given up; the rollout
 * itself sent the notification one-way and never waits for it. Receivers that must be safe
 * against the one unavoidable duplicate (a crash between the receiver's 2xx and the journal
 * write) de-duplicate on the `X-Ctrl-Event-Id` header / `id` field.
 */
export function createSentinelRolloutNotifier(deps: WorkerDeps) {
  const settings = resolveSettings(deps.settings);
  return restate.object({
    name: sentinelRolloutNotifierName,
    handlers: {
      notify: async (ctx: restate.ObjectContext, req: NotifyRequest): Promise<{ delivered: boolean }> => {
        const host = webhookHost(req.url);
        try {
          await ctx.run(
            `webhook ${req.event.seq} ${req.event.event}`,
            async () => {
              const res = await fetch(req.url, {
                method: "POST",
                headers: { "content-type": "application/json", "x-ctrl-event-id": req.event.id },
                body: JSON.stringify(req.event),
                signal: AbortSignal.timeout(settings.webhookTimeoutMs),
                redirect: "error",
              });
              await res.body?.cancel();
              if (res.status >= 500 || res.status === 429) throw new Error(`webhook ${host} answered ${res.status}`);
              if (res.status >= 400) throw new restate.TerminalError(`webhook ${host} refused the notification with ${res.status}`);
            },
            { maxRetryAttempts: settings.webhookMaxAttempts, initialRetryInterval: 200, maxRetryInterval: 5_000 },
          );
          return { delivered: true };
        } catch (err) {
          if (!(err instanceof restate.TerminalError) || err instanceof restate.CancelledError) throw err;
          ctx.console.warn(
            { rolloutId: ctx.key, webhook: host, event: req.event.event, seq: req.event.seq, err: err.message },
            "rollout webhook given up",
          );
          return { delivered: false };
        }
      },
    },
    options: { ingressPrivate: true },
  });
}
