import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** The directories of one build, all inside its temporary work directory. */
export interface BuildDirs {
  root: string;
  /** The extracted context; commands run here and it becomes the artifact. */
  app: string;
  home: string;
  tmp: string;
  npmCache: string;
}

/** Creates the build's directories under `root` (which must exist and be empty or new). */
export async function createBuildDirs(root: string): Promise<BuildDirs> {
  const dirs: BuildDirs = {
    root,
    app: join(root, "app"),
    home: join(root, "home"),
    tmp: join(root, "tmp"),
    npmCache: join(root, "npm-cache"),
  };
  await Promise.all([dirs.app, dirs.home, dirs.tmp, dirs.npmCache].map((d) => mkdir(d, { recursive: true })));
  // An empty user config: nothing from the worker's own ~/.npmrc (tokens!) reaches the build.
  await writeFile(join(dirs.home, ".npmrc"), "");
  return dirs;
}

/** Settings of the restricted build environment. */
export interface SandboxOptions {
  /** The package registry builds install from (the one network destination a build needs). */
  npmRegistry: string;
  /** The Node binary the worker runs on; its directory goes first on PATH. */
  nodeBinary?: string;
  /** CA bundle for the registry's TLS, when the host uses a custom one. */
  caFile?: string;
}

/**
 * The complete environment of a build command. Nothing is inherited from the worker, so no secret
 * in its environment (database URL, S3 keys, tokens) reaches user code. HOME, TMPDIR and npm's
 * cache point inside the build's directory; npm talks only to the configured registry and runs
 * without its update check, audit or funding calls.
 */
export function sandboxEnv(dirs: BuildDirs, options: SandboxOptions): Record<string, string> {
  const nodeDir = dirname(options.nodeBinary ?? process.execPath);
  const env: Record<string, string> = {
    PATH: [nodeDir, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].join(":"),
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
    LANG: "C.UTF-8",
    CI: "true",
    npm_config_cache: dirs.npmCache,
    npm_config_userconfig: join(dirs.home, ".npmrc"),
    npm_config_registry: options.npmRegistry,
    npm_config_update_notifier: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_loglevel: "warn",
    npm_config_progress: "false",
    NO_UPDATE_NOTIFIER: "1",
    NEXT_TELEMETRY_DISABLED: "1",
  };
  if (options.caFile) {
    env.NODE_EXTRA_CA_CERTS = options.caFile;
  }
  return env;
}
