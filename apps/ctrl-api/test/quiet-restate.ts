/**
 * The Restate SDK reads RESTATE_LOGGING once, when first loaded, and logs every invocation at INFO
 * otherwise. Imported before anything that loads the worker endpoint so test output stays readable;
 * set RESTATE_LOGGING=INFO to see the invocations again.
 */
process.env.RESTATE_LOGGING ??= "ERROR";
export {};
