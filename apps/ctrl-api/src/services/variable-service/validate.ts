import { Code, ConnectError } from "@connectrpc/connect";

/** Limits of one request: what a `.env` file of a real app needs, far below what would hurt MySQL. */
export const variableLimits = { keyLength: 255, valueBytes: 64 * 1024, perRequest: 200 } as const;

const keyPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A variable name as a process environment accepts it: letters, digits and `_`, not starting with a digit. */
export function validateVariableKey(key: string, field: string): string {
  if (key === "") throw new ConnectError(`${field} is required`, Code.InvalidArgument);
  if (key.length > variableLimits.keyLength)
    throw new ConnectError(`${field} is longer than ${variableLimits.keyLength} characters`, Code.InvalidArgument);
  if (!keyPattern.test(key))
    throw new ConnectError(
      `${field} "${key}" is not a valid variable name: use letters, digits and _, not starting with a digit`,
      Code.InvalidArgument,
    );
  return key;
}

/** Checks a list of keys (one request): not empty, bounded, each valid, none twice. */
export function validateKeyList(keys: string[], field: string): string[] {
  if (keys.length === 0) throw new ConnectError(`${field} must name at least one variable`, Code.InvalidArgument);
  if (keys.length > variableLimits.perRequest)
    throw new ConnectError(`${field} has ${keys.length} entries; at most ${variableLimits.perRequest} per request`, Code.InvalidArgument);
  const seen = new Set<string>();
  keys.forEach((key, i) => {
    validateVariableKey(key, `${field}[${i}]`);
    if (seen.has(key)) throw new ConnectError(`${field}[${i}]: "${key}" is given twice`, Code.InvalidArgument);
    seen.add(key);
  });
  return keys;
}

/** Checks the variables of a SetVariables request and returns them sorted by key. */
export function validateVariables(variables: { key: string; value: string }[]): { key: string; value: string }[] {
  validateKeyList(
    variables.map((v) => v.key),
    "variables",
  );
  variables.forEach((v, i) => {
    if (Buffer.byteLength(v.value, "utf8") > variableLimits.valueBytes)
      throw new ConnectError(`variables[${i}] (${v.key}): the value is larger than 64 KiB`, Code.InvalidArgument);
  });
  return [...variables].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
