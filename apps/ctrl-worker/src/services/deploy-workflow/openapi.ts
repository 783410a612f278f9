import { setDeploymentOpenApiSpec, type Db } from "@ctrl/db";
import type { DeployRun } from "./deploy-run.js";

/** Outcome of the optional OpenAPI scrape (small: the spec itself goes to MySQL, not the journal). */
export type OpenApiOutcome = { ok: true; bytes: number; url: string } | { ok: false; reason: string };

/** `http://host:port` + path for an instance address that may or may not carry a scheme. */
export function openApiUrl(address: string, path: string): string {
  const base = /^https?:\/\//.test(address) ? address.replace(/\/+$/, "") : `http://${address}`;
  return `${base}${path}`;
}

/**
 * Fetches the OpenAPI document from a running instance, bounded in time (`timeoutMs`, covering the
 * body too) and size (`maxBytes`, counted while streaming), and stores it on the deployment.
 * Never throws for a problem of the instance: the scrape is optional and the step is skipped.
 */
export async function scrapeOpenApi(
  db: Db,
  deploymentId: string,
  address: string,
  options: { path: string; timeoutMs: number; maxBytes: number; now: number },
): Promise<OpenApiOutcome> {
  const url = openApiUrl(address, options.path);
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs), redirect: "manual" });
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      return { ok: false, reason: `GET ${url} answered ${res.status}` };
    }
    const declared = Number(res.headers.get("content-length") ?? "0");
    if (declared > options.maxBytes) {
      await res.body.cancel();
      return { ok: false, reason: `document of ${declared} bytes exceeds the ${options.maxBytes}-byte limit` };
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > options.maxBytes) {
        return { ok: false, reason: `document exceeds the ${options.maxBytes}-byte limit` };
      }
      chunks.push(chunk);
    }
    text = Buffer.concat(chunks).toString("utf8");
  } catch (err) {
    const e = err as Error;
    const why = e.name === "TimeoutError" ? `timed out after ${options.timeoutMs} ms` : e.message;
    return { ok: false, reason: `GET ${url} failed: ${why}` };
  }
  try {
    JSON.parse(text);
  } catch {
    return { ok: false, reason: `GET ${url} did not return JSON` };
  }
  // Storing is ours, not the instance's: a database error here is transient and retried.
  await setDeploymentOpenApiSpec(db, deploymentId, text, options.now);
  return { ok: true, bytes: Buffer.byteLength(text), url };
}

/** Step `openapi`: scrapes the spec from a running instance; skipped (never failed) when it cannot. */
export async function openApiStep(run: DeployRun, address: string | null): Promise<void> {
  const { ctx, settings } = run;
  await run.steps.step("openapi", `fetching ${settings.openapiPath}`, async () => {
    if (!address) return { value: undefined, status: "skipped", message: "no running instance address reported" };
    const now = await ctx.date.now();
    const outcome = await ctx.run("scrape openapi", () =>
      scrapeOpenApi(run.db, run.deploymentId, address, {
        path: settings.openapiPath,
        timeoutMs: settings.openapiTimeoutMs,
        maxBytes: settings.openapiMaxBytes,
        now,
      }),
    );
    return outcome.ok
      ? { value: undefined, message: `stored ${outcome.bytes} bytes from ${outcome.url}` }
      : { value: undefined, status: "skipped", message: `skipped: ${outcome.reason}` };
  });
}
