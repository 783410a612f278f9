import { randomBytes } from "node:crypto";
import { hashKey } from "./api-keys.js";
import { base58, newId } from "./ids.js";
import type { Db } from "./pool.js";
import type { AgentCredentialRow } from "./tables/agent-credentials.js";

/** Agent tokens look like `ctrl_agent_<base58>`, distinct from root keys so a leak is easy to attribute. */
export const agentTokenPrefix = "ctrl_agent_";

/** Region names, as agents and topology rows spell them. */
export const regionNamePattern = /^[A-Za-z0-9._-]{1,64}$/;

/** What a live agent credential allows: one region, reported addresses on these hosts and ports. */
export interface AgentCredential {
  id: string;
  name: string;
  region: string;
  advertiseHosts: string[];
  ports: { low: number; high: number };
  createdAt: number;
  revokedAt: number | null;
}

/** What {@link createAgentCredential} needs. */
export interface NewAgentCredential {
  name: string;
  region: string;
  /** Hosts the agent may report in instance addresses (its KRANE_ADVERTISE_HOST). */
  advertiseHosts: string[];
  /** Ports the agent may report (its KRANE_PORT_RANGE). */
  ports: { low: number; high: number };
  now: number;
  /**
   * The token to register (the local stack passes the one it generated into secrets.env); by default
   * a new random one is minted. At least 32 characters.
   */
  token?: string;
}

function toCredential(row: AgentCredentialRow): AgentCredential {
  return {
    id: row.id,
    name: row.name,
    region: row.region,
    advertiseHosts: JSON.parse(row.advertise_hosts) as string[],
    ports: { low: row.port_min, high: row.port_max },
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/** Throws an error naming the bad field; the CLI and the stack show it as is. */
function validate(input: NewAgentCredential): void {
  if (!regionNamePattern.test(input.region)) throw new Error(`region "${input.region}" must be 1-64 characters [A-Za-z0-9._-]`);
  if (!input.name || input.name.length > 255) throw new Error("name must be 1-255 characters");
  if (input.advertiseHosts.length === 0) throw new Error("at least one advertise host is required (the agent's KRANE_ADVERTISE_HOST)");
  for (const h of input.advertiseHosts)
    if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(h)) throw new Error(`advertise host "${h}" is not a host name or IP address`);
  const { low, high } = input.ports;
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 65535 || low > high)
    throw new Error(`port range ${low}-${high} must be ascending within 1-65535`);
  if (input.token !== undefined && input.token.length < 32) throw new Error("an agent token must be at least 32 characters");
}

/**
 * Registers an agent credential and returns its token once; only the token's sha256 is stored, so
 * a lost token is replaced (create a new one, revoke the old), never shown again.
 */
export async function createAgentCredential(db: Db, input: NewAgentCredential): Promise<{ credential: AgentCredential; token: string }> {
  validate(input);
  const token = input.token ?? agentTokenPrefix + base58(randomBytes(32));
  const id = newId("agc");
  await db
    .insertInto("agent_credentials")
    .values({
      id,
      name: input.name,
      region: input.region,
      token_sha256: hashKey(token),
      advertise_hosts: JSON.stringify(input.advertiseHosts),
      port_min: input.ports.low,
      port_max: input.ports.high,
      created_at: input.now,
      revoked_at: null,
    })
    .execute();
  return {
    credential: {
      id,
      name: input.name,
      region: input.region,
      advertiseHosts: input.advertiseHosts,
      ports: input.ports,
      createdAt: input.now,
      revokedAt: null,
    },
    token,
  };
}

/**
 * Makes sure `input.token` is registered with exactly these bounds (the local stack, on every start):
 * an existing live credential of that token is updated, a missing one is created. A revoked one stays
 * revoked (an error), so a revocation is never undone by a restart.
 */
export async function ensureAgentCredential(db: Db, input: NewAgentCredential & { token: string }): Promise<AgentCredential> {
  validate(input);
  const existing = await db.selectFrom("agent_credentials").selectAll().where("token_sha256", "=", hashKey(input.token)).executeTakeFirst();
  if (!existing) return (await createAgentCredential(db, input)).credential;
  if (existing.revoked_at !== null) throw new Error(`agent credential ${existing.id} for this token was revoked: generate a new token`);
  await db
    .updateTable("agent_credentials")
    .set({
      name: input.name,
      region: input.region,
      advertise_hosts: JSON.stringify(input.advertiseHosts),
      port_min: input.ports.low,
      port_max: input.ports.high,
    })
    .where("id", "=", existing.id)
    .execute();
  return toCredential({
    ...existing,
    name: input.name,
    region: input.region,
    advertise_hosts: JSON.stringify(input.advertiseHosts),
    port_min: input.ports.low,
    port_max: input.ports.high,
  });
}

/** The live (not revoked) credential of `token`, or undefined. */
export async function findAgentCredential(db: Db, token: string): Promise<AgentCredential | undefined> {
  const row = await db
    .selectFrom("agent_credentials")
    .selectAll()
    .where("token_sha256", "=", hashKey(token))
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return row ? toCredential(row) : undefined;
}

/** Every credential, newest first (revoked ones included, for audits). */
export async function listAgentCredentials(db: Db): Promise<AgentCredential[]> {
  return (await db.selectFrom("agent_credentials").selectAll().orderBy("created_at", "desc").execute()).map(toCredential);
}

/** Revokes a credential at once (its next call is `unauthenticated`). False when no live credential has that id. */
export async function revokeAgentCredential(db: Db, id: string, now: number): Promise<boolean> {
  const res = await db
    .updateTable("agent_credentials")
    .set({ revoked_at: now })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
