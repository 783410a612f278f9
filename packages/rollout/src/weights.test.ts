import { describe, expect, it } from "vitest";
import { chooseVersion, readCookie, stickyCookieName } from "./weights.js";

const split = { stableDeploymentId: "d_old", canaryDeploymentId: "d_new", canaryWeight: 10 };

describe("chooseVersion", () => {
  it("sends the weight's share of new clients to the canary and tells them to remember", () => {
    expect(chooseVersion(split, undefined, 0.05)).toEqual({
      deploymentId: "d_new",
      setCookie: `${stickyCookieName}=d_new; Path=/; HttpOnly; SameSite=Lax`,
    });
    expect(chooseVersion(split, undefined, 0.1).deploymentId).toBe("d_old");
    let canary = 0;
    for (let i = 0; i < 1000; i++) if (chooseVersion(split, undefined, i / 1000).deploymentId === "d_new") canary++;
    expect(canary).toBe(100);
  });

  it("keeps a client on the version its cookie names, and ignores a cookie for neither", () => {
    expect(chooseVersion(split, `a=1; ${stickyCookieName}=d_old`, 0)).toEqual({ deploymentId: "d_old", setCookie: undefined });
    expect(chooseVersion(split, `${stickyCookieName}=d_new`, 0.99)).toEqual({ deploymentId: "d_new", setCookie: undefined });
    expect(chooseVersion(split, `${stickyCookieName}=d_gone`, 0.99).setCookie).toContain("d_old");
  });

  it("weight 0 and 100 are all stable and all canary", () => {
    expect(chooseVersion({ ...split, canaryWeight: 0 }, undefined, 0).deploymentId).toBe("d_old");
    expect(chooseVersion({ ...split, canaryWeight: 100 }, undefined, 0.999).deploymentId).toBe("d_new");
  });

  it("reads cookies", () => {
    expect(readCookie("a=1;b = 2 ; c=3", "b")).toBe("2");
    expect(readCookie("a=1", "b")).toBeUndefined();
    expect(readCookie(undefined, "b")).toBeUndefined();
  });
});
