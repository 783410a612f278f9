/**
 * @ctrl/testing: the real-server harness. Starts restate-server and s3rver on free ports, creates a
 * fresh MySQL database per test file, and waits on conditions with deadlines (never fixed sleeps).
 */
export * from "./wait.js";
export * from "./process.js";
export * from "./restate.js";
export * from "./restate-identity.js";
export * from "./s3.js";
export * from "./pebble.js";
export { createTestDatabase, type TestDatabase } from "@ctrl/db/testing";
export * from "./worker-process.js";
export * from "./startup-refusal.js";
export * from "./http-fuzz.js";
export * from "./edge-fixtures.js";
export * from "./tls.js";
export * from "./page-receiver.js";
