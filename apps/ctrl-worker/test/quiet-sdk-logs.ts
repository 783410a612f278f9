/**
 * Import first in worker tests: the Restate SDK reads RESTATE_LOGGING once, when it loads, and
 * otherwise prints two INFO lines per invocation. TEST_RESTATE_LOGGING=INFO brings them back.
 */
process.env.RESTATE_LOGGING ??= process.env.TEST_RESTATE_LOGGING ?? "WARN";
export {};
