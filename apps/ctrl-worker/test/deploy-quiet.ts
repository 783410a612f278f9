/**
 * The Restate SDK reads RESTATE_LOGGING once, when it is first loaded, and logs every invocation at
 * INFO otherwise. Imported first by the deploy test harness so test output stays readable; set
 * RESTATE_LOGGING=INFO to see the invocations again.
 */
process.env.RESTATE_LOGGING ??= "ERROR";
export {};
