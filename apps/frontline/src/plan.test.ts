import { notOriginFormMessage } from "@ctrl/proxy";
import { describe, expect, it } from "vitest";
import { planRequest, routeHost, type PlanContext, type PlanRequest } from "./plan.js";
import type { RouteSnapshot } from "./route-table.js";

/**
 * Frontline's routing decision as a pure function: the HTTP and the upgrade path make the same
 * decision for the same request, challenge and redirect paths come before routing, and a host is
 * routed to the sentinel or the instances by mode. The integration tests run it behind real sockets.
 */
const route = (deploymentId: string, environmentId: string) => ({ deploymentId, environmentId, projectId: "proj_1", workspaceId: "ws_1" });

function snapshot(o: { sentinelHealthy?: boolean; instances?: string[]; sentinel?: boolean } = {}): RouteSnapshot {
  return {
    routes: new Map([
      ["app.example.com", route("d_1", "env_1")],
      ["*.custom.test", route("d_2", "env_2")],
    ]),
    instances: new Map([
      ["d_1", o.instances ?? ["10.0.0.1:4000", "10.0.0.2:4000"]],
      ["d_2", ["10.0.0.3:4000"]],
    ]),
    sentinels:
      o.sentinel === false
        ? new Map()
        : new Map([["env_1", { sentinelId: "se_1", healthy: o.sentinelHealthy ?? true, addresses: ["10.0.1.1:5000"] }]]),
  };
}

const request = (o: Partial<PlanRequest> = {}): PlanRequest => ({
  host: "app.example.com",
  url: "/",
  method: "GET",
  encrypted: false,
  upgrade: false,
  ...o,
});

const context = (o: Partial<PlanContext> = {}): PlanContext => ({ snapshot: snapshot(), mode: "instances", acme: true, ...o });

describe("planRequest", () => {
  it("refuses a missing or malformed Host and a target that is not a path, on both paths", () => {
    for (const upgrade of [false, true]) {
      expect(planRequest(request({ host: undefined, upgrade }), context())).toEqual({
        kind: "bad_request",
        message: "missing or malformed Host header",
      });
      expect(planRequest(request({ url: "http://evil.example/", upgrade }), context())).toEqual({
        kind: "bad_request",
        message: notOriginFormMessage,
      });
    }
  });

  it("answers ACME challenges for GET and HEAD only, and rejects a malformed token without a lookup", () => {
    const url = "/.well-known/acme-challenge/tok_-1?x=y";
    expect(planRequest(request({ url }), context())).toEqual({ kind: "acme_challenge", host: "app.example.com", token: "tok_-1" });
    expect(planRequest(request({ url, method: "HEAD" }), context())).toMatchObject({ kind: "acme_challenge" });
    expect(planRequest(request({ url, method: "POST" }), context())).toMatchObject({ kind: "route" });
    expect(planRequest(request({ url: "/.well-known/acme-challenge/a.b" }), context())).toEqual({ kind: "unknown_challenge" });
    // Without a verifier the path routes like any other.
    expect(planRequest(request({ url }), context({ acme: false }))).toMatchObject({ kind: "route" });
  });

  it("redirects plain HTTP to HTTPS when the certificate store says so, never a challenge or a TLS request", () => {
    const seen: [string, string][] = [];
    const httpsRedirect = {
      port: 8443,
      shouldRedirectToHttps: (host: string, path: string) => {
        seen.push([host, path]);
        return true;
      },
    };
    expect(planRequest(request({ url: "/a?b=c" }), context({ httpsRedirect }))).toEqual({
      kind: "redirect",
      location: "https://app.example.com:8443/a?b=c",
    });
    expect(seen).toEqual([["app.example.com", "/a?b=c"]]);
    expect(planRequest(request({ url: "/x" }), context({ httpsRedirect: { ...httpsRedirect, port: 443 } }))).toEqual({
      kind: "redirect",
      location: "https://app.example.com/x",
    });
    expect(planRequest(request({ encrypted: true }), context({ httpsRedirect }))).toMatchObject({ kind: "route" });
    expect(planRequest(request({ url: "/.well-known/acme-challenge/t" }), context({ httpsRedirect }))).toMatchObject({
      kind: "acme_challenge",
    });
  });

  it("answers frontline's health only on hosts no deployment serves", () => {
    expect(planRequest(request({ host: "localhost:8080", url: "/_ctrl/health" }), context())).toEqual({ kind: "health" });
    expect(planRequest(request({ url: "/_ctrl/health" }), context())).toMatchObject({ kind: "route", host: "app.example.com" });
  });

  it("only routes upgrade requests: no challenge, redirect or health answer", () => {
    const httpsRedirect = { port: 443, shouldRedirectToHttps: () => true };
    for (const url of ["/.well-known/acme-challenge/t", "/ws", "/_ctrl/health"]) {
      expect(planRequest(request({ url, upgrade: true }), context({ httpsRedirect }))).toMatchObject({ kind: "route" });
    }
    expect(planRequest(request({ host: "localhost", url: "/_ctrl/health", upgrade: true }), context())).toEqual({
      kind: "route",
      host: "localhost",
      route: { kind: "unknown_host" },
    });
  });

  it("makes the same routing decision for a request and an upgrade of it", () => {
    for (const mode of ["instances", "sentinel", "auto"] as const) {
      const http = planRequest(request({ url: "/ws" }), context({ mode }));
      const upgrade = planRequest(request({ url: "/ws", upgrade: true }), context({ mode }));
      expect(upgrade).toEqual(http);
    }
  });

  it("normalizes the Host header before routing", () => {
    expect(planRequest(request({ host: "APP.example.com:80" }), context())).toMatchObject({ kind: "route", host: "app.example.com" });
  });
});

describe("routeHost", () => {
  it("routes an unknown host nowhere, and a wildcard custom domain one label deep", () => {
    expect(routeHost(snapshot(), "nope.example.com", "instances")).toEqual({ kind: "unknown_host" });
    expect(routeHost(snapshot(), "www.custom.test", "instances")).toMatchObject({ kind: "proxy", deploymentId: "d_2" });
    expect(routeHost(snapshot(), "a.b.custom.test", "instances")).toEqual({ kind: "unknown_host" });
  });

  it("instances mode: straight to the running instances, no_upstream without any", () => {
    expect(routeHost(snapshot(), "app.example.com", "instances")).toEqual({
      kind: "proxy",
      key: "d_1",
      addresses: ["10.0.0.1:4000", "10.0.0.2:4000"],
      viaSentinel: false,
      deploymentId: "d_1",
    });
    expect(routeHost(snapshot({ instances: [] }), "app.example.com", "instances")).toEqual({ kind: "no_upstream", deploymentId: "d_1" });
  });

  it("sentinel mode: the healthy sentinel only, no_upstream while it is unhealthy or missing", () => {
    expect(routeHost(snapshot(), "app.example.com", "sentinel")).toEqual({
      kind: "proxy",
      key: "sentinel:se_1",
      addresses: ["10.0.1.1:5000"],
      viaSentinel: true,
      deploymentId: "d_1",
    });
    expect(routeHost(snapshot({ sentinelHealthy: false }), "app.example.com", "sentinel")).toEqual({
      kind: "no_upstream",
      deploymentId: "d_1",
    });
    expect(routeHost(snapshot({ sentinel: false }), "app.example.com", "sentinel")).toEqual({ kind: "no_upstream", deploymentId: "d_1" });
  });

  it("auto mode: the healthy sentinel with the instances as fallback, else the instances", () => {
    expect(routeHost(snapshot(), "app.example.com", "auto")).toEqual({
      kind: "proxy",
      key: "sentinel:se_1",
      addresses: ["10.0.1.1:5000"],
      fallback: ["10.0.0.1:4000", "10.0.0.2:4000"],
      viaSentinel: true,
      deploymentId: "d_1",
    });
    expect(routeHost(snapshot({ instances: [] }), "app.example.com", "auto")).not.toHaveProperty("fallback");
    expect(routeHost(snapshot({ sentinelHealthy: false }), "app.example.com", "auto")).toMatchObject({ key: "d_1", viaSentinel: false });
  });
});
