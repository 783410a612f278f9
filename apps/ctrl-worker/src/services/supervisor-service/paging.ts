import type { DeploymentHalt } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import type { WorkerSettings } from "../../settings.js";
import { webhookHost, webhookUrlProblem } from "../sentinel-rollout-service/webhook.js";

/** `trigger` when a halt needs a person's attention, `resolve` when the supervisor's action succeeded. */
export type PageAction = "trigger" | "resolve";

/** The PagerDuty dedup key of a halt: one incident per deployment and reason. */
export function dedupKeyOf(halt: Pick<DeploymentHalt, "deployment_id" | "reason">): string {
  return `${halt.deployment_id}:${halt.reason}`;
}

/** A person-readable line about a halt. */
export function haltSummary(halt: DeploymentHalt): string {
  const code = halt.exit_code === null ? "" : ` (exit ${halt.exit_code})`;
  const plan = halt.plan_name ? ` plan ${halt.plan_name}` : "";
  const height = halt.height === null ? "" : ` at height ${halt.height}`;
  return `deployment ${halt.deployment_id} halted: ${halt.reason}${code}${plan}${height} — ${halt.message ?? halt.state}`;
}

/** PagerDuty Events API v2 body (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/). */
export function pagerDutyEvent(routingKey: string, action: PageAction, halt: DeploymentHalt) {
  const base = { routing_key: routingKey, event_action: action, dedup_key: dedupKeyOf(halt) };
  if (action === "resolve") return base;
  return {
    ...base,
    payload: {
      summary: haltSummary(halt).slice(0, 1024),
      severity: halt.reason === "upgrade_required" ? "error" : "critical",
      source: `ctrl/${halt.project_id}/${halt.deployment_id}`,
      custom_details: {
        deployment_id: halt.deployment_id,
        project_id: halt.project_id,
        environment_id: halt.environment_id,
        instance: halt.instance,
        reason: halt.reason,
        exit_code: halt.exit_code,
        plan_name: halt.plan_name,
        height: halt.height,
        info: halt.info,
        action: halt.action,
        state: halt.state,
        condition: halt.condition,
      },
    },
  };
}

/** Slack-compatible incoming-webhook body. */
export function slackMessage(action: PageAction, halt: DeploymentHalt) {
  const text =
    action === "trigger"
      ? `:rotating_light: ${haltSummary(halt)}`
      : `:white_check_mark: resolved: deployment ${halt.deployment_id} (${halt.reason}) — ${halt.message ?? halt.state}`;
  return { text };
}

async function post(url: string, body: unknown, timeoutMs: number): Promise<void> {
  const host = webhookHost(url);
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: "error",
  });
  await res.body?.cancel();
  if (res.status >= 500 || res.status === 429) throw new Error(`page receiver ${host} answered ${res.status}`);
  if (res.status >= 400) throw new restate.TerminalError(`page receiver ${host} refused the page with ${res.status}`);
}

/**
 * Sends a halt's page to every configured channel, each delivery one journaled step (a delivery
 * acknowledged before a worker crash is not sent again on replay). A bad URL or a receiver that
 * keeps failing is logged by host only and given up after the configured attempts: a page never
 * blocks the supervisor's action. True when at least one channel accepted it.
 */
export async function sendPage(
  ctx: restate.ObjectContext,
  settings: WorkerSettings,
  action: PageAction,
  halt: DeploymentHalt,
): Promise<boolean> {
  const { pagerDutyUrl, pagerDutyRoutingKey, slackWebhookUrl } = settings.haltPaging;
  const channels: { name: string; url: string; body: unknown }[] = [];
  if (pagerDutyUrl) channels.push({ name: "pagerduty", url: pagerDutyUrl, body: pagerDutyEvent(pagerDutyRoutingKey, action, halt) });
  if (slackWebhookUrl) channels.push({ name: "slack", url: slackWebhookUrl, body: slackMessage(action, halt) });
  let delivered = false;
  for (const channel of channels) {
    const problem = webhookUrlProblem(channel.url);
    if (problem) {
      ctx.console.warn({ deploymentId: halt.deployment_id, channel: channel.name, problem }, "halt page channel misconfigured; skipped");
      continue;
    }
    try {
      await ctx.run(`page ${action} ${channel.name}`, () => post(channel.url, channel.body, settings.webhookTimeoutMs), {
        maxRetryAttempts: settings.webhookMaxAttempts,
        initialRetryInterval: 200,
        maxRetryInterval: 5_000,
      });
      delivered = true;
    } catch (err) {
      if (!(err instanceof restate.TerminalError) || err instanceof restate.CancelledError) throw err;
      ctx.console.warn(
        { deploymentId: halt.deployment_id, channel: channel.name, receiver: webhookHost(channel.url), err: err.message },
        "halt page given up",
      );
    }
  }
  return delivered;
}
