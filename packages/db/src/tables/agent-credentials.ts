import type { Insertable, Selectable } from "kysely";

/** A krane agent's credential: its region and the addresses it may report; the token is stored as sha256 hex. */
export interface AgentCredentialsTable {
  id: string;
  name: string;
  region: string;
  token_sha256: string;
  /** JSON array of hosts allowed in reported addresses. */
  advertise_hosts: string;
  port_min: number;
  port_max: number;
  created_at: number;
  revoked_at: number | null;
}
export type AgentCredentialRow = Selectable<AgentCredentialsTable>;
export type NewAgentCredentialRow = Insertable<AgentCredentialsTable>;
