import type { FastifyInstance } from "fastify";
import type { z } from "zod";
import type { RootKeyPrincipal } from "../../principal.js";
import { httpErrorFrom } from "../../deployment-model/errors.js";
import type { ApiDeps } from "../../deps.js";
import { authenticateRootKey, parseBody, sendData } from "./envelope.js";

/**
 * Registers one resource endpoint: authenticate the root key, parse the body against `schema`, run
 * `handle` (the same model function the Connect RPC calls) and send its result with `status`; the
 * model's ConnectErrors become the envelope (InvalidField → 400 with `errors[]`).
 */
export function resourceEndpoint<S extends z.ZodType>(
  app: FastifyInstance,
  deps: ApiDeps,
  path: string,
  schema: S,
  status: number,
  handle: (principal: RootKeyPrincipal, body: z.infer<S>) => Promise<unknown>,
): void {
  app.post(path, async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, schema);
    try {
      return sendData(req, reply, status, await handle(principal, body));
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
}
