/** A command: a string runs through `/bin/sh -c`, an array is executed directly (program, arguments). */
export type Command = string | string[];

/** What the local builder runs, and what the artifact's `ctrl.json` says. */
export interface BuildPlan {
  /** Where the plan came from. */
  source: "ctrl.json" | "package.json";
  /** Dependency install (`npm ci` / `npm install`), when the context has a package.json with dependencies. */
  install?: Command;
  /** The build command, when there is one. */
  build?: Command;
  /** How the artifact starts. */
  start: Command;
  port?: number;
  healthPath?: string;
  /** `ctrl.json`'s halt opt-in, carried into the artifact's manifest (docs/halt-contract.md). */
  halt?: { statusPath: string; stayAlive?: boolean; graceSeconds?: number };
}

/** The files {@link planBuild} looks at, already read from the context's root. */
export interface PlanInput {
  /** Parsed and validated `ctrl.json`, when present. */
  manifest?: { start: Command; port?: number; healthPath?: string; build?: Command; halt?: BuildPlan["halt"] };
  /** Text of `package.json`, when present. */
  packageJson?: string;
  /** Names of the files at the context's root (lockfile detection). */
  rootFiles: ReadonlySet<string>;
}

/** A context whose build cannot be planned (no start command, unreadable package.json, …). */
export class PlanError extends Error {
  override readonly name = "PlanError";
}

interface PackageJson {
  scripts?: Record<string, unknown>;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
  optionalDependencies?: Record<string, unknown>;
  main?: unknown;
}

/**
 * Plans a local build. `ctrl.json` wins for the start command, port, health path and build command;
 * a `package.json` supplies what it leaves out:
 * - install: `npm ci` when a lockfile (`package-lock.json`/`npm-shrinkwrap.json`) exists, else
 *   `npm install`, and only when the package declares dependencies or has a lockfile;
 * - build: `npm run build` when the `build` script exists;
 * - start: `npm start` when the `start` script exists, else `node <main>` when `main` is set.
 */
export function planBuild(input: PlanInput): BuildPlan {
  let pkg: PackageJson | undefined;
  if (input.packageJson !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(input.packageJson);
    } catch (err) {
      throw new PlanError(`package.json is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new PlanError("package.json must be a JSON object");
    pkg = value as PackageJson;
  }
  if (!input.manifest && !pkg) {
    throw new PlanError(
      'the context has neither ctrl.json nor package.json at its root: add a ctrl.json with at least {"start": "<command>"}',
    );
  }

  const hasLockfile = input.rootFiles.has("package-lock.json") || input.rootFiles.has("npm-shrinkwrap.json");
  const declaresDeps =
    pkg !== undefined &&
    [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies].some((d) => d && typeof d === "object" && Object.keys(d).length > 0);
  const install: Command | undefined = pkg && (declaresDeps || hasLockfile) ? (hasLockfile ? "npm ci" : "npm install") : undefined;
  const script = (name: string) => {
    const s = pkg?.scripts?.[name];
    return typeof s === "string" && s.trim().length > 0;
  };

  const build: Command | undefined = input.manifest?.build ?? (script("build") ? "npm run build" : undefined);
  let start: Command | undefined = input.manifest?.start;
  if (start === undefined) {
    if (script("start")) start = "npm start";
    else if (typeof pkg?.main === "string" && pkg.main.trim()) start = ["node", pkg.main.trim()];
  }
  if (start === undefined) {
    throw new PlanError(
      'no start command: add a "start" script to package.json, a "main" entry, or a ctrl.json with {"start": "<command>"}',
    );
  }
  return {
    source: input.manifest ? "ctrl.json" : "package.json",
    ...(install !== undefined ? { install } : {}),
    ...(build !== undefined ? { build } : {}),
    start,
    ...(input.manifest?.port !== undefined ? { port: input.manifest.port } : {}),
    ...(input.manifest?.healthPath !== undefined ? { healthPath: input.manifest.healthPath } : {}),
    ...(input.manifest?.halt !== undefined ? { halt: input.manifest.halt } : {}),
  };
}

/** A command as a person reads it in logs and error messages. */
export function displayCommand(command: Command): string {
  if (typeof command === "string") return command;
  return command.map((a) => (/^[A-Za-z0-9_./:=@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
