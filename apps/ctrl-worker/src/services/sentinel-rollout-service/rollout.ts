import { listRolloutCandidates, newId, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import { imageRefProblem } from "../sentinel-service/image-ref.js";
import { defaultConcurrency, defaultWavePercentages, type RolloutRequest, type RolloutState } from "./api.js";
import { advance, emit, newRolloutState, noEffects, waveListProblem } from "./plan.js";
import { commitTransition, requireSingleton, requireState, stateKey, webhookKey } from "./transition.js";
import { webhookHost, webhookUrlProblem } from "./webhook.js";

/**
 * `rollout`: validates the request, records the targets (every non-archived sentinel, stable
 * order) with the image each runs now, and starts the first wave. Returns the state.
 */
export async function startRollout(ctx: restate.ObjectContext, db: Db, req: RolloutRequest): Promise<RolloutState> {
  requireSingleton(ctx);
  if (typeof req !== "object" || req === null) throw terminal("invalid_argument", "a request object with image is required");
  const imageProblem = imageRefProblem(req.image);
  if (imageProblem) throw terminal("invalid_argument", imageProblem);
  const waves =
    req.wavePercentages === undefined || (Array.isArray(req.wavePercentages) && req.wavePercentages.length === 0)
      ? defaultWavePercentages
      : req.wavePercentages;
  const waveProblem = waveListProblem(waves);
  if (waveProblem) throw terminal("invalid_argument", waveProblem);
  const concurrency = req.concurrency ?? defaultConcurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100)
    throw terminal("invalid_argument", `concurrency must be an integer between 1 and 100 (got ${String(req.concurrency)})`);
  if (req.webhookUrl !== undefined && req.webhookUrl !== "") {
    const problem = webhookUrlProblem(req.webhookUrl);
    if (problem) throw terminal("invalid_argument", problem);
  }
  const current = await ctx.get<RolloutState>(stateKey);
  requireState(current ?? null, "start a rollout", ["idle", "completed", "cancelled", "rolled_back"]);

  const id = await ctx.run("allocate rollout id", () => newId("ro"));
  const candidates = await ctx.run("list targets", () => listRolloutCandidates(db));
  const now = await ctx.date.now();
  const s = newRolloutState({
    id,
    image: req.image,
    wavePercentages: waves,
    concurrency,
    createdBy: (req.createdBy ?? "unknown").slice(0, 255),
    ...(req.webhookUrl ? { webhookHost: webhookHost(req.webhookUrl) } : {}),
    candidates,
    now,
  });
  if (req.webhookUrl) ctx.set(webhookKey, req.webhookUrl);
  else ctx.clear(webhookKey);
  const fx = noEffects();
  emit(s, fx, "started", now);
  advance(s, now, fx);
  await commitTransition(ctx, db, s, fx, true);
  ctx.console.info({ rolloutId: id, image: req.image, targets: s.targets.length }, "fleet rollout started");
  return s;
}
