import { describe, expect, it } from "vitest";
import { displayCommand, planBuild, PlanError } from "./plan.js";

const files = (...names: string[]) => new Set(names);
const pkg = (value: unknown) => JSON.stringify(value);

describe("planBuild", () => {
  it("uses ctrl.json alone for a dependency-free app", () => {
    expect(
      planBuild({ manifest: { start: "node server.js", port: 8080, healthPath: "/healthz" }, rootFiles: files("ctrl.json", "server.js") }),
    ).toEqual({
      source: "ctrl.json",
      start: "node server.js",
      port: 8080,
      healthPath: "/healthz",
    });
  });

  it("runs npm ci when a lockfile exists, npm run build when the script exists, npm start to run", () => {
    const plan = planBuild({
      packageJson: pkg({ scripts: { build: "tsc", start: "node dist/main.js" }, dependencies: { ms: "2.1.3" } }),
      rootFiles: files("package.json", "package-lock.json"),
    });
    expect(plan).toEqual({ source: "package.json", install: "npm ci", build: "npm run build", start: "npm start" });
  });

  it("runs npm install without a lockfile, and npm ci with npm-shrinkwrap.json", () => {
    const deps = pkg({ scripts: { start: "node ." }, devDependencies: { typescript: "5" } });
    expect(planBuild({ packageJson: deps, rootFiles: files("package.json") }).install).toBe("npm install");
    expect(planBuild({ packageJson: deps, rootFiles: files("package.json", "npm-shrinkwrap.json") }).install).toBe("npm ci");
  });

  it("skips install for a package without dependencies and without a lockfile", () => {
    const plan = planBuild({ packageJson: pkg({ scripts: { start: "node server.js" } }), rootFiles: files("package.json") });
    expect(plan.install).toBeUndefined();
    expect(plan.build).toBeUndefined();
  });

  it("starts `node <main>` when there is no start script", () => {
    expect(planBuild({ packageJson: pkg({ main: "index.js" }), rootFiles: files("package.json") }).start).toEqual(["node", "index.js"]);
  });

  it("lets ctrl.json's build and start win over package.json scripts, keeping the install", () => {
    const plan = planBuild({
      manifest: { start: ["node", "out/app.js"], build: "node make.mjs" },
      packageJson: pkg({ scripts: { build: "tsc", start: "node dist/main.js" }, dependencies: { ms: "1" } }),
      rootFiles: files("ctrl.json", "package.json", "package-lock.json"),
    });
    expect(plan).toEqual({ source: "ctrl.json", install: "npm ci", build: "node make.mjs", start: ["node", "out/app.js"] });
  });

  it("falls back to package.json's build script under a ctrl.json without one", () => {
    const plan = planBuild({
      manifest: { start: "npm start" },
      packageJson: pkg({ scripts: { build: "tsc" } }),
      rootFiles: files("ctrl.json", "package.json"),
    });
    expect(plan.build).toBe("npm run build");
  });

  it("rejects a context with neither file, naming what to add", () => {
    expect(() => planBuild({ rootFiles: files("server.js") })).toThrow(/neither ctrl.json nor package.json/);
  });

  it("rejects a package.json without a way to start", () => {
    expect(() => planBuild({ packageJson: pkg({ scripts: { build: "tsc" } }), rootFiles: files("package.json") })).toThrow(
      /no start command/,
    );
    expect(() => planBuild({ packageJson: pkg({ scripts: { start: "   " } }), rootFiles: files("package.json") })).toThrow(PlanError);
  });

  it("rejects malformed package.json", () => {
    expect(() => planBuild({ packageJson: "{not json", rootFiles: files("package.json") })).toThrow(/package.json is not valid JSON/);
    expect(() => planBuild({ packageJson: "[1,2]", rootFiles: files("package.json") })).toThrow(/must be a JSON object/);
    expect(() => planBuild({ packageJson: "", rootFiles: files("package.json") })).toThrow(/not valid JSON/);
  });
});

describe("displayCommand", () => {
  it("shows strings as they are and quotes argv elements that need it", () => {
    expect(displayCommand("npm run build && echo ok")).toBe("npm run build && echo ok");
    expect(displayCommand(["node", "dist/main.js"])).toBe("node dist/main.js");
    expect(displayCommand(["sh", "-c", "echo it's"])).toBe(`sh -c 'echo it'\\''s'`);
  });

  it("carries ctrl.json's halt opt-in into the plan (the artifact's manifest)", () => {
    const halt = { statusPath: "/status", stayAlive: true, graceSeconds: 60 };
    expect(planBuild({ manifest: { start: "node s.js", halt }, rootFiles: files("ctrl.json", "s.js") }).halt).toEqual(halt);
  });
});
