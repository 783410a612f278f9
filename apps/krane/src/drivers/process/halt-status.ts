import type { HaltIntentRecord } from "./instance-record.js";

/** Most bytes of a status response the agent reads (a status document is small). */
const maxStatusBytes = 64 * 1024;

const reasons = new Set(["upgrade_required", "binary_too_new", "downgrade_detected"]);

function text(value: unknown, max: number): string | undefined {
  return typeof value === "string" && value.trim() ? value.trim().slice(0, max) : undefined;
}

function int(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Parses a status document's `halt_intent` (docs/halt-contract.md). `null` when the app runs
 * normally (absent or null), undefined when the document is not the contract's (not JSON, or an
 * intent without a known reason): the agent then relies on the exit code alone.
 */
export function parseHaltIntent(body: string): HaltIntentRecord | null | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null) return undefined;
  const intent = (doc as { halt_intent?: unknown }).halt_intent;
  if (intent === undefined || intent === null) return null;
  if (typeof intent !== "object") return undefined;
  const i = intent as Record<string, unknown>;
  const reason = text(i.reason, 64);
  if (!reason || !reasons.has(reason)) return undefined;
  const planName = text(i.plan_name, 255);
  const height = int(i.height);
  const info = text(i.info, 4096);
  const announced = typeof i.announced_at === "string" ? Date.parse(i.announced_at) : int(i.announced_at);
  return {
    reason,
    ...(planName ? { planName } : {}),
    ...(height !== undefined ? { height } : {}),
    ...(info ? { info } : {}),
    ...(announced !== undefined && Number.isFinite(announced) ? { announcedAt: announced } : {}),
  };
}

/**
 * Reads the halt intent an instance serves at `url`: cheap and bounded (one GET, `timeoutMs`, at
 * most 64 KiB, no redirects). Undefined when the endpoint does not answer 200 with the contract's
 * JSON (an older version of the app): the exit code alone decides then.
 */
export async function readHaltStatus(url: string, timeoutMs: number): Promise<HaltIntentRecord | null | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      return undefined;
    }
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxStatusBytes) {
        await reader.cancel();
        return undefined;
      }
      chunks.push(value);
    }
    return parseHaltIntent(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}
