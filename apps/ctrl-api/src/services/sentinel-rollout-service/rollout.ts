import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { RolloutRequest, RolloutResponseSchema } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { requireOperator } from "./access.js";
import { rolloutMessage } from "./view.js";
import { callRolloutService } from "./worker-calls.js";

/**
 * SentinelRolloutService.Rollout: starts a fleet rollout. Every rule (image, wave list, webhook
 * URL, concurrency, the legal states) is the worker's, whose error code reaches the caller as is.
 */
export async function rollout(
  deps: ApiDeps,
  req: RolloutRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof RolloutResponseSchema>> {
  const createdBy = requireOperator(ctx);
  const state = await callRolloutService(
    deps,
    "starting a fleet rollout",
    (c, opts) =>
      c.rollout(
        {
          image: req.image.trim(),
          ...(req.wavePercentages.length ? { wavePercentages: req.wavePercentages } : {}),
          ...(req.webhookUrl ? { webhookUrl: req.webhookUrl } : {}),
          ...(req.concurrency ? { concurrency: req.concurrency } : {}),
          createdBy,
        },
        opts,
      ),
    ctx.signal,
  );
  deps.logger.info({ rolloutId: state.id, image: state.image, targets: state.targets.length, createdBy }, "fleet rollout started");
  return { rollout: rolloutMessage(state) };
}
