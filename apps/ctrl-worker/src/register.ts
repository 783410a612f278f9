import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";

/**
 * Registers the endpoint with the Restate admin API, retrying with exponential backoff (capped at
 * 10 s) until it succeeds or `signal` aborts. Logs one clear line per failed attempt.
 */
export async function registerWithRestate(adminUrl: string, endpointUrl: string, logger: Logger, signal?: AbortSignal): Promise<void> {
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${adminUrl}/deployments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ uri: endpointUrl, force: true }),
        signal,
      });
      if (res.ok) {
        const body = (await res.json()) as { id?: string; services?: { name: string }[] };
        logger.info(
          { adminUrl, endpointUrl, deploymentId: body.id, services: body.services?.map((s) => s.name) },
          "registered with restate",
        );
        return;
      }
      logger.warn(
        { adminUrl, endpointUrl, attempt, status: res.status, body: (await res.text()).slice(0, 500) },
        "restate rejected the registration; retrying",
      );
    } catch (err) {
      if (signal?.aborted) throw err;
      // fetch only says "fetch failed"; the cause carries what happened (ECONNREFUSED, ENOTFOUND, …).
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (err as Error).message;
      logger.warn(
        { adminUrl, endpointUrl, attempt, retryInMs: delay, err: reason },
        "restate admin API unreachable; is restate-server running? retrying",
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}

/**
 * Registers again when restate-server has forgotten this worker's services (its data was lost: a
 * wiped or replaced server), checking `GET /services/<probeService>` every `intervalMs` until
 * `signal` aborts. Only a 404 for the service triggers it, so an endpoint that a newer deployment
 * superseded never takes the routing back; an unreachable admin API is simply checked again later.
 */
export async function keepRegistered(
  adminUrl: string,
  endpointUrl: string,
  probeService: string,
  logger: Logger,
  signal: AbortSignal,
  intervalMs: number,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await sleep(intervalMs, undefined, { signal });
      const res = await fetch(`${adminUrl}/services/${encodeURIComponent(probeService)}`, { signal });
      if (res.status === 404) {
        logger.warn(
          { adminUrl, endpointUrl, service: probeService },
          "restate no longer knows this worker's services (its data was lost?); registering again",
        );
        await registerWithRestate(adminUrl, endpointUrl, logger, signal);
      }
    } catch (err) {
      if (signal.aborted) return;
      logger.debug({ adminUrl, err: (err as Error).message }, "registration check failed; checking again later");
    }
  }
}
