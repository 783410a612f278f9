import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ClusterService } from "@ctrl/proto";

/** The typed ClusterService client the agent uses. */
export type ClusterClient = Client<typeof ClusterService>;

/** Connect over HTTP/1.1 with `Authorization: Bearer <token>` and `X-Krane-Region` on every call. */
export function createClusterClient(baseUrl: string, token: string, region: string): ClusterClient {
  const headers: Interceptor = (next) => async (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    req.header.set("x-krane-region", region);
    return next(req);
  };
  return createClient(ClusterService, createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [headers] }));
}
