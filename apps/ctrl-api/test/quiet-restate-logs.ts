/**
 * Imported first by the certificate harness: the Restate SDK reads RESTATE_LOGGING once, when it
 * loads, and otherwise prints every step's ctx.console line. TEST_RESTATE_LOGGING=INFO brings them back.
 */
process.env.RESTATE_LOGGING ??= process.env.TEST_RESTATE_LOGGING ?? "WARN";
export {};
