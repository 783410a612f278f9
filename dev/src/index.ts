/** @ctrl/dev: the local stack's building blocks (runner, step list, self-check), reusable by tests and tools. */
export * from "./config.js";
export * from "./logs.js";
export * from "./mysql.js";
export * from "./runner.js";
export * from "./self-check.js";
export * from "./specs.js";
export * from "./secrets.js";
export * from "./summary.js";
