import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DeploymentService } from "@ctrl/proto";
import type { CliConfig } from "./args.js";

/** A failed public `/v2` call: the envelope's error, with the field problems when there are any. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: { location: string; message: string }[] = [],
    readonly requestId?: string,
  ) {
    super(`${title} (${status}): ${detail}${errors.length ? ` — ${errors.map((e) => `${e.location}: ${e.message}`).join("; ")}` : ""}`);
  }
}

interface Envelope<T> {
  meta?: { requestId?: string };
  data?: T;
  error?: { title?: string; detail?: string; status?: number; errors?: { location: string; message: string }[] };
}

/** Calls `POST <api>/v2/<endpoint>` with the root key and unwraps the `{meta, data|error}` envelope. */
export async function callPublicApi<T>(config: CliConfig, endpoint: string, body: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${config.apiUrl}/v2/${endpoint}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${config.rootKey}` },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    throw new Error(
      `cannot reach ctrl-api at ${config.apiUrl}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`,
    );
  }
  const text = await res.text();
  let envelope: Envelope<T>;
  try {
    envelope = JSON.parse(text) as Envelope<T>;
  } catch {
    throw new ApiError(
      res.status,
      "Unexpected response",
      `${endpoint} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`,
    );
  }
  if (!res.ok || envelope.error) {
    const e = envelope.error ?? {};
    throw new ApiError(
      e.status ?? res.status,
      e.title ?? "Error",
      e.detail ?? `HTTP ${res.status}`,
      e.errors ?? [],
      envelope.meta?.requestId,
    );
  }
  if (envelope.data === undefined) throw new ApiError(res.status, "Unexpected response", `${endpoint} answered without data`);
  return envelope.data;
}

/** The Connect DeploymentService client (list, watch, logs, rollback, promote) with the root key as bearer. */
export function deploymentClient(config: CliConfig): Client<typeof DeploymentService> {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${config.rootKey}`);
    return next(req);
  };
  return createClient(DeploymentService, createConnectTransport({ baseUrl: config.apiUrl, httpVersion: "1.1", interceptors: [auth] }));
}

/** Public `generateUploadUrl` response. */
export interface UploadUrl {
  uploadUrl: string;
  context: string;
}

/** Public `createDeployment` request body. */
export interface CreateDeploymentBody {
  projectId: string;
  branch?: string;
  environmentSlug: string;
  gitCommit?: { commitSha?: string; commitMessage?: string; authorHandle?: string; timestamp?: number };
  build?: { context: string; dockerfile?: string };
  image?: string;
}
