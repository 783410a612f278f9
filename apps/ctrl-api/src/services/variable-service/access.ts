/**
 * Root-key permissions of VariableService, as `project.<id|*>.<action>`: `write_variables`
 * (SetVariables, UnsetVariables), `read_variables` (ListVariables, names only), `reveal_variables`
 * (ListVariables with values). The internal token may do everything.
 */
export const variablePermissions = {
  write: "write_variables",
  read: "read_variables",
  reveal: "reveal_variables",
} as const;
