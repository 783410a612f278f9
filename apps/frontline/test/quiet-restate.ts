/**
 * The Restate SDK reads RESTATE_LOGGING once, when first loaded, and logs every invocation at INFO
 * otherwise. Imported first by tests that host the worker endpoint; RESTATE_LOGGING=INFO shows them.
 */
process.env.RESTATE_LOGGING ??= "ERROR";
export {};
