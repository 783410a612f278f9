/** @ctrl/config: the one environment loader, the logging schema and the logger factory. */
export * from "./load.js";
export * from "./logging.js";
