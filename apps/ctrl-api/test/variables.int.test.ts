/**
 * VariableService through real Connect clients against ctrl-api, MariaDB and the worker, and the
 * per-deployment snapshot of variables (issue 15).
 *
 * Guarantees: set/list/unset round-trip with values redacted unless revealed with `reveal_variables`;
 * bad keys, duplicates, empty requests and oversized values are `invalid_argument` and write
 * nothing; a root key never reaches another workspace (the same `not_found` as a missing project)
 * and needs its permission; without VAULT_MASTER_KEYS a set is `failed_precondition`. Every
 * deployment keeps the variables it was created with: what its agent receives does not change when a
 * variable is set or unset later, while the next deployment gets the new values.
 */
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createRootKey } from "@ctrl/db";
import { DeploymentService, VariableService } from "@ctrl/proto";
import { parseRegionKeys, Vault, vaultContext } from "@ctrl/vault";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentEnvBytes } from "../src/services/cluster-service/deployment-env.js";
import { bearer, createWorkspace, failure, startDeployStack } from "./fake-agent.js";
import type { TestStack } from "./harness.js";

const vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
const agentSpec = `k1:${randomBytes(32).toString("base64")}`;
const agentVault = Vault.fromSpec(agentSpec);
const regionVaults = parseRegionKeys(`local=${agentSpec}`);
let stack: TestStack;
let ws: Awaited<ReturnType<typeof createWorkspace>>;
let other: Awaited<ReturnType<typeof createWorkspace>>;

beforeAll(async () => {
  // No agent: deployments created here fail their readiness wait quickly; their snapshots stay.
  stack = await startDeployStack({ readinessTimeoutMs: 1_500, readinessPollMs: 100 });
  stack.deps.vault = vault;
  ws = await createWorkspace(stack.deps.db);
  other = await createWorkspace(stack.deps.db);
}, 90_000);
afterAll(async () => stack?.close());

const transport = () => createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" });
const variables = () => createClient(VariableService, transport());
const deployments = () => createClient(DeploymentService, transport());
const production = () => ({ projectId: ws.projectId, environmentSlug: "production" });
const keyWith = async (permissions: string[]) =>
  (await createRootKey(stack.deps.db, { workspaceId: ws.workspaceId, name: "scoped", permissions, now: Date.now() })).key;

/** What the agent of region `local` receives for the deployment, decrypted as the agent does. */
async function agentEnv(deploymentId: string): Promise<Record<string, string>> {
  const bytes = await deploymentEnvBytes(
    { db: stack.deps.db, vault, regionVaults, logger: pino({ level: "silent" }) },
    ws.environments.production,
    deploymentId,
    "local",
  );
  if (bytes.length === 0) return {};
  return JSON.parse(agentVault.decryptString(Buffer.from(bytes).toString("utf8"), vaultContext.deploymentEnv(deploymentId)));
}

async function deploy(image: string): Promise<string> {
  const res = await deployments().createDeployment({ ...production(), source: { case: "dockerImage", value: image } }, bearer(ws.rootKey));
  return res.deploymentId;
}

describe("VariableService", () => {
  it("sets many at once, lists names only by default and values with reveal, stores no plaintext", async () => {
    const set = await variables().setVariables(
      {
        ...production(),
        variables: [
          { key: "SECRET", value: "hunter2" },
          { key: "API_URL", value: "https://a.example" },
        ],
      },
      bearer(ws.rootKey),
    );
    expect(set.keys).toEqual(["API_URL", "SECRET"]);
    expect(set.liveDeploymentId).toBe("");
    const listed = await variables().listVariables(production(), bearer(ws.rootKey));
    expect(listed.variables.map((v) => [v.key, v.value])).toEqual([
      ["API_URL", undefined],
      ["SECRET", undefined],
    ]);
    expect(listed.variables.every((v) => v.updatedAt > 0n)).toBe(true);
    const revealed = await variables().listVariables({ ...production(), reveal: true }, bearer(ws.rootKey));
    expect(revealed.variables.map((v) => [v.key, v.value])).toEqual([
      ["API_URL", "https://a.example"],
      ["SECRET", "hunter2"],
    ]);
    const rows = await stack.deps.db.selectFrom("environment_variables").select("encrypted_value").execute();
    expect(rows.some((r) => r.encrypted_value.includes("hunter2"))).toBe(false);
    // Another environment of the project has its own (none).
    expect(
      (await variables().listVariables({ projectId: ws.projectId, environmentSlug: "preview" }, bearer(ws.rootKey))).variables,
    ).toEqual([]);
  });

  it("unset removes the named variables and reports the ones that did not exist", async () => {
    await variables().setVariables({ ...production(), variables: [{ key: "TEMP", value: "x" }] }, bearer(ws.rootKey));
    const res = await variables().unsetVariables({ ...production(), keys: ["TEMP", "NEVER_SET"] }, bearer(ws.rootKey));
    expect(res.removed).toEqual(["TEMP"]);
    expect(res.missing).toEqual(["NEVER_SET"]);
    const keys = (await variables().listVariables(production(), bearer(ws.rootKey))).variables.map((v) => v.key);
    expect(keys).not.toContain("TEMP");
  });

  it("bad inputs are invalid_argument naming the field, and write nothing", async () => {
    const cases: [unknown, string][] = [
      [{ ...production(), variables: [] }, "variables must name at least one variable"],
      [{ ...production(), variables: [{ key: "1ABC", value: "v" }] }, 'variables[0] "1ABC" is not a valid variable name'],
      [{ ...production(), variables: [{ key: "A-B", value: "v" }] }, 'variables[0] "A-B" is not a valid variable name'],
      [{ ...production(), variables: [{ key: "", value: "v" }] }, "variables[0] is required"],
      [
        {
          ...production(),
          variables: [
            { key: "DUP", value: "1" },
            { key: "DUP", value: "2" },
          ],
        },
        'variables[1]: "DUP" is given twice',
      ],
      [
        { ...production(), variables: [{ key: "BIG", value: "x".repeat(64 * 1024 + 1) }] },
        "variables[0] (BIG): the value is larger than 64 KiB",
      ],
      [{ projectId: ws.projectId, environmentSlug: "", variables: [{ key: "OK", value: "v" }] }, "environment_slug is required"],
    ];
    for (const [req, message] of cases) {
      const err = await failure(variables().setVariables(req as never, bearer(ws.rootKey)));
      expect(err.code, message).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain(message);
    }
    const unset = await failure(variables().unsetVariables({ ...production(), keys: [] }, bearer(ws.rootKey)));
    expect(unset.code).toBe(Code.InvalidArgument);
    expect(unset.rawMessage).toContain("keys must name at least one variable");
    const keys = (await variables().listVariables(production(), bearer(ws.rootKey))).variables.map((v) => v.key);
    expect(keys).not.toContain("OK");
    expect(keys).not.toContain("DUP");
  });

  it("a missing project or environment, or another workspace's, is not_found; each action needs its permission", async () => {
    const foreign = await failure(variables().listVariables(production(), bearer(other.rootKey)));
    expect(foreign.code).toBe(Code.NotFound);
    expect(foreign.rawMessage).toBe(`project ${ws.projectId} not found`);
    const missingEnv = await failure(variables().listVariables({ projectId: ws.projectId, environmentSlug: "nope" }, bearer(ws.rootKey)));
    expect(missingEnv.code).toBe(Code.NotFound);
    expect(missingEnv.rawMessage).toBe(`environment "nope" not found in project ${ws.projectId}`);

    const reader = await keyWith([`project.${ws.projectId}.read_variables`]);
    expect((await variables().listVariables(production(), bearer(reader))).variables.length).toBeGreaterThan(0);
    for (const call of [
      () => variables().listVariables({ ...production(), reveal: true }, bearer(reader)),
      () => variables().setVariables({ ...production(), variables: [{ key: "X", value: "1" }] }, bearer(reader)),
      () => variables().unsetVariables({ ...production(), keys: ["SECRET"] }, bearer(reader)),
    ]) {
      expect((await failure(call())).code).toBe(Code.PermissionDenied);
    }
    const revealer = await keyWith([`project.${ws.projectId}.reveal_variables`]);
    const revealed = await variables().listVariables({ ...production(), reveal: true }, bearer(revealer));
    expect(revealed.variables.find((v) => v.key === "SECRET")?.value).toBe("hunter2");
  });

  it("without VAULT_MASTER_KEYS a set is failed_precondition and says what to do", async () => {
    stack.deps.vault = undefined;
    try {
      const err = await failure(variables().setVariables({ ...production(), variables: [{ key: "X", value: "1" }] }, bearer(ws.rootKey)));
      expect(err.code).toBe(Code.FailedPrecondition);
      expect(err.rawMessage).toContain("VAULT_MASTER_KEYS is not set");
    } finally {
      stack.deps.vault = vault;
    }
  });
});

describe("per-deployment variable snapshots", () => {
  it("a deployment's agent keeps the values it was created with; the next deployment gets the new ones", async () => {
    await variables().setVariables({ ...production(), variables: [{ key: "GREETING", value: "old" }] }, bearer(ws.rootKey));
    const first = await deploy("ghcr.io/acme/api:1.0.0");
    expect(await agentEnv(first)).toEqual({ API_URL: "https://a.example", GREETING: "old", SECRET: "hunter2" });

    await variables().setVariables(
      {
        ...production(),
        variables: [
          { key: "GREETING", value: "new" },
          { key: "ADDED", value: "later" },
        ],
      },
      bearer(ws.rootKey),
    );
    await variables().unsetVariables({ ...production(), keys: ["SECRET"] }, bearer(ws.rootKey));
    // The old deployment (a restart, or a rollback to it) runs exactly its own configuration.
    expect(await agentEnv(first)).toEqual({ API_URL: "https://a.example", GREETING: "old", SECRET: "hunter2" });

    // GetDeployment names the variables the deployment runs with (its snapshot), never values.
    const { deployment } = await deployments().getDeployment({ deploymentId: first }, bearer(ws.rootKey));
    expect(Object.keys(deployment!.environmentVariables).sort()).toEqual(["API_URL", "GREETING", "SECRET"]);
    expect(JSON.stringify(deployment!.environmentVariables)).not.toContain("hunter2");

    const second = await deploy("ghcr.io/acme/api:1.0.1");
    expect(await agentEnv(second)).toEqual({ ADDED: "later", API_URL: "https://a.example", GREETING: "new" });
    expect(await agentEnv(first)).toMatchObject({ GREETING: "old" });
  });
});

describe("/v2 variable endpoints", () => {
  const post = async (endpoint: string, body: unknown, token = ws.rootKey) => {
    const res = await fetch(`${stack.apiUrl}/v2/${endpoint}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { data?: any; error?: any } };
  };

  it("set, list (redacted and revealed) and unset share the RPCs' rules", async () => {
    const set = await post("deploy.setVariables", { ...production(), variables: [{ key: "HTTP_ONE", value: "1" }] });
    expect(set.status).toBe(200);
    expect(set.body.data).toEqual({ keys: ["HTTP_ONE"], liveDeploymentId: "" });
    const listed = await post("deploy.listVariables", production());
    expect(listed.status).toBe(200);
    const one = listed.body.data.variables.find((v: { key: string }) => v.key === "HTTP_ONE");
    expect(one).toEqual({ key: "HTTP_ONE", updatedAt: expect.any(Number) });
    const revealed = await post("deploy.listVariables", { ...production(), reveal: true });
    expect(revealed.body.data.variables.find((v: { key: string }) => v.key === "HTTP_ONE").value).toBe("1");
    const unset = await post("deploy.unsetVariables", { ...production(), keys: ["HTTP_ONE", "HTTP_NONE"] });
    expect(unset.body.data).toEqual({ removed: ["HTTP_ONE"], missing: ["HTTP_NONE"] });
  });

  it("a bad body is 400 naming the field, a bad name 400, another workspace 404", async () => {
    const noList = await post("deploy.setVariables", production());
    expect(noList.status).toBe(400);
    expect(noList.body.error.errors[0].location).toBe("body.variables");
    const badName = await post("deploy.setVariables", { ...production(), variables: [{ key: "9X", value: "1" }] });
    expect(badName.status).toBe(400);
    expect(badName.body.error.detail).toContain('"9X" is not a valid variable name');
    const foreign = await post("deploy.listVariables", production(), other.rootKey);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.detail).toBe(`project ${ws.projectId} not found`);
  });
});
