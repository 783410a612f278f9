import { stickyCookieName } from "@ctrl/rollout";
import { describe, expect, it } from "vitest";
import { applySplit, type RegionSplit } from "./traffic-split.js";

const split: RegionSplit = { environmentId: "env_1", stableDeploymentId: "d_old", canaryDeploymentId: "d_new", canaryWeight: 10 };
const splits = new Map([["env_1", split]]);
const live = { deploymentId: "d_old", environmentId: "env_1", sticky: "live" };
const everywhere = () => true;

describe("applySplit", () => {
  it("sends the canary's weight of new clients on a shared hostname to the canary, and pins them", () => {
    let canary = 0;
    for (let i = 0; i < 1000; i++) if (applySplit(live, splits, everywhere, undefined, i / 1000).deploymentId === "d_new") canary++;
    expect(canary).toBe(100);
    expect(applySplit(live, splits, everywhere, undefined, 0).setCookie).toContain(`${stickyCookieName}=d_new`);
  });

  it("keeps a pinned client on its version", () => {
    expect(applySplit(live, splits, everywhere, `${stickyCookieName}=d_new`, 0.99)).toEqual({
      deploymentId: "d_new",
      setCookie: undefined,
    });
    expect(applySplit(live, splits, everywhere, `${stickyCookieName}=d_old`, 0)).toEqual({ deploymentId: "d_old", setCookie: undefined });
  });

  it("never splits a deployment's own hostname, another environment, or a route that moved on", () => {
    expect(applySplit({ ...live, sticky: "none" }, splits, everywhere, undefined, 0).deploymentId).toBe("d_old");
    expect(applySplit({ ...live, environmentId: "env_2" }, splits, everywhere, undefined, 0).deploymentId).toBe("d_old");
    expect(applySplit({ ...live, deploymentId: "d_newer" }, splits, everywhere, undefined, 0)).toEqual({
      deploymentId: "d_newer",
      setCookie: undefined,
    });
  });

  it("falls back to stable when the canary has no running instance in the region", () => {
    expect(applySplit(live, splits, (id) => id !== "d_new", `${stickyCookieName}=d_new`, 0)).toEqual({
      deploymentId: "d_old",
      setCookie: undefined,
    });
  });

  it("a cut-over region (weight 100) serves the canary to everyone", () => {
    const cut = new Map([["env_1", { ...split, canaryWeight: 100 }]]);
    expect(applySplit(live, cut, everywhere, undefined, 0.999).deploymentId).toBe("d_new");
  });
});
