/**
 * Rollout traffic splits at the edge, against a real MariaDB and real upstream servers, with one
 * frontline per region. Guarantees: in the region with a split, the environment's shared hostname
 * sends the canary its weight of new clients (±5 % over 1,000 requests) and pins each client to its
 * version by cookie; another region's frontline and a deployment's own hostname are untouched;
 * removing the split sends everyone back to stable; the per-deployment counters the rollout analysis
 * reads are served on the ops listener, never on the public port.
 */
import { countersFor, stickyCookieName } from "@ctrl/rollout";
import { clearRegionSplits, setRegionSplit } from "@ctrl/db";
import { createTestDatabase, insertDeployment, insertInstance, newEdgeProject, setRoute, waitFor, type TestDatabase } from "@ctrl/testing";
import { createServer, type Server } from "node:http";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpsServer } from "../src/ops.js";
import { startFrontlineInProcess, type InProcessFrontline } from "./harness.js";

const client = new Agent({ connections: 32 });
let database: TestDatabase;
let east: InProcessFrontline;
let west: InProcessFrontline;
const servers: Server[] = [];
const project = newEdgeProject();
let stable: string;
let canary: string;

async function named(name: string): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end(name));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function get(frontline: InProcessFrontline, host: string, cookie?: string) {
  const res = await request(`${frontline.url}/`, { dispatcher: client, headers: { host, ...(cookie ? { cookie } : {}) } });
  const setCookie = res.headers["set-cookie"];
  return {
    status: res.statusCode,
    body: await res.body.text(),
    setCookie: Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [],
  };
}

const split = (weight: number) =>
  setRegionSplit(
    database.db,
    {
      environment_id: project.environmentId,
      region: "east",
      workspace_id: project.workspaceId,
      stable_deployment_id: stable,
      canary_deployment_id: canary,
      canary_weight: weight,
    },
    Date.now(),
  );

beforeAll(async () => {
  database = await createTestDatabase();
  stable = await insertDeployment(database.db, project);
  canary = await insertDeployment(database.db, project);
  for (const region of ["east", "west"]) {
    await insertInstance(database.db, project, stable, await named("stable"), "running", region);
    await insertInstance(database.db, project, canary, await named("canary"), "running", region);
  }
  await setRoute(database.db, project, "app.split.test", stable, "environment");
  await setRoute(database.db, project, "own.split.test", stable, "none");
  east = await startFrontlineInProcess({ db: database.db, region: "east", settings: { mode: "instances" } });
  west = await startFrontlineInProcess({ db: database.db, region: "west", settings: { mode: "instances" } });
  await split(25);
  await waitFor("east to load the split", async () => ((await get(east, "app.split.test")).setCookie.length > 0 ? true : undefined), {
    timeoutMs: 10_000,
  });
});

afterAll(async () => {
  await east?.close();
  await west?.close();
  for (const server of servers) server.close();
  await client.close();
  await database?.drop();
});

describe("rollout traffic splits", () => {
  it("sends the canary its weight of 1,000 new clients (±5 %), each told to remember its version", async () => {
    const seen = { stable: 0, canary: 0 };
    for (let i = 0; i < 1_000; i++) {
      const res = await get(east, "app.split.test");
      expect(res.status).toBe(200);
      seen[res.body as "stable" | "canary"]++;
      const deploymentId = res.body === "canary" ? canary : stable;
      expect(res.setCookie).toEqual([expect.stringContaining(`${stickyCookieName}=${deploymentId}`)]);
    }
    expect(seen.canary).toBeGreaterThanOrEqual(200);
    expect(seen.canary).toBeLessThanOrEqual(300);
  });

  it("keeps a client on its version while the split holds", async () => {
    for (const [deploymentId, name] of [
      [canary, "canary"],
      [stable, "stable"],
    ] as const) {
      for (let i = 0; i < 50; i++) {
        const res = await get(east, "app.split.test", `other=1; ${stickyCookieName}=${deploymentId}`);
        expect(res.body).toBe(name);
        expect(res.setCookie).toEqual([]);
      }
    }
  });

  it("leaves another region's frontline and a deployment's own hostname alone", async () => {
    for (let i = 0; i < 100; i++) {
      expect((await get(west, "app.split.test")).body).toBe("stable");
      const own = await get(east, "own.split.test");
      expect(own.body).toBe("stable");
      expect(own.setCookie).toEqual([]);
    }
  });

  it("counts each deployment's requests on the ops listener, not on the public port", async () => {
    const ops = createOpsServer(east.frontline);
    await new Promise<void>((resolve) => ops.listen(0, "127.0.0.1", resolve));
    try {
      const res = await request(`http://127.0.0.1:${(ops.address() as { port: number }).port}/metrics`, { dispatcher: client });
      expect(res.headers["content-type"]).toContain("text/plain");
      const text = await res.body.text();
      const counted = countersFor([text], canary).requests + countersFor([text], stable).requests;
      expect(countersFor([text], canary).requests).toBeGreaterThan(0);
      expect(counted).toBe(east.frontline.stats.byStatusClass["2xx"]);
      const pub = await request(`${east.url}/metrics`, { dispatcher: client, headers: { host: "own.split.test" } });
      expect(await pub.body.text()).toBe("stable");
    } finally {
      ops.close();
    }
  });

  it("a cut-over region serves the canary to everyone; removing the split sends everyone back to stable", async () => {
    await split(100);
    await waitFor(
      "east to serve only the canary",
      async () => {
        for (let i = 0; i < 20; i++)
          if ((await get(east, "app.split.test", `${stickyCookieName}=nobody`)).body !== "canary") return undefined;
        return true;
      },
      { timeoutMs: 10_000 },
    );
    expect(await clearRegionSplits(database.db, project.environmentId)).toBe(1);
    await waitFor(
      "east to serve only stable",
      async () => {
        for (let i = 0; i < 20; i++)
          if ((await get(east, "app.split.test", `${stickyCookieName}=${canary}`)).body !== "stable") return undefined;
        return true;
      },
      { timeoutMs: 10_000 },
    );
  });
});
