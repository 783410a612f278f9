import type { SentinelRolloutServiceApi } from "@ctrl/ctrl-worker/api";
import { sentinelRolloutKey, sentinelRolloutServiceName } from "@ctrl/ctrl-worker/contract";
import * as clients from "@restatedev/restate-sdk-clients";
import type { ApiDeps } from "../../deps.js";
import { connectErrorFromRestate } from "../../restate-errors.js";

function rolloutClient(deps: ApiDeps) {
  return deps.restate.objectClient<SentinelRolloutServiceApi>({ name: sentinelRolloutServiceName }, sentinelRolloutKey);
}
type Client = ReturnType<typeof rolloutClient>;

/**
 * Calls a handler of the worker's `SentinelRolloutService` (key `singleton`) through the Restate
 * ingress; its TerminalError becomes the precise Connect code (restate-errors.ts). `what` names
 * the operation for the message.
 */
export async function callRolloutService<T>(
  deps: ApiDeps,
  what: string,
  call: (client: Client, opts: clients.Opts<any, any>) => PromiseLike<T>,
  signal: AbortSignal,
): Promise<T> {
  const client = rolloutClient(deps);
  try {
    return await call(client, clients.rpc.opts({ signal }));
  } catch (err) {
    throw connectErrorFromRestate(err, what);
  }
}
