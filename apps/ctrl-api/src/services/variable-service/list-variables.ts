import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { listEnvironmentVariables } from "@ctrl/db";
import type { ListVariablesRequest, ListVariablesResponseSchema } from "@ctrl/proto";
import { vaultContext } from "@ctrl/vault";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { authorizeEnvironment } from "../environment-service/access.js";
import { variablePermissions } from "./access.js";

/**
 * VariableService.ListVariables: the environment's variables in key order — names and update times
 * with `read_variables`; values too with `reveal` and `reveal_variables`. Values are decrypted only
 * when revealed and never logged.
 */
export async function listVariables(
  deps: ApiDeps,
  req: ListVariablesRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof ListVariablesResponseSchema>> {
  const environment = await authorizeEnvironment(
    deps.db,
    ctx.values.get(principalKey),
    req.projectId,
    req.environmentSlug,
    req.reveal ? variablePermissions.reveal : variablePermissions.read,
  );
  const rows = await listEnvironmentVariables(deps.db, environment.id);
  const vault = deps.vault;
  if (req.reveal && rows.length > 0 && !vault)
    throw new ConnectError("ctrl-api cannot decrypt variables: VAULT_MASTER_KEYS is not set", Code.FailedPrecondition);
  return {
    variables: rows.map((row) => ({
      key: row.key,
      updatedAt: BigInt(row.updated_at),
      ...(req.reveal && vault
        ? { value: vault.decryptString(row.encrypted_value, vaultContext.environmentVariable(environment.id, row.key)) }
        : {}),
    })),
  };
}
