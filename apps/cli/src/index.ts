/** @ctrl/cli: the `ctrl` command (deploy, status, list, logs, rollback, promote). */
export { runCli } from "./main.js";
export * from "./args.js";
export * from "./ignore.js";
export * from "./git.js";
export * from "./progress.js";
export { createOutput } from "./output.js";
