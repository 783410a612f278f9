import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { listEnvironmentVariables } from "@ctrl/db";
import type { ListVariablesResponseSchema } from "@ctrl/proto";
import { vaultContext } from "@ctrl/vault";
import type { Principal } from "../../auth.js";
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
  principal: Principal | undefined,
  req: { projectId: string; environmentSlug: string; reveal: boolean },
): Promise<MessageInitShape<typeof ListVariablesResponseSchema>> {
  const environment = await authorizeEnvironment(
    deps.db,
    principal,
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
