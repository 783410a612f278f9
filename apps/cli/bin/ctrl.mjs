#!/usr/bin/env node
// The `ctrl` binary: loads tsx from this package (so it works from any directory) and runs the CLI
// from source, as every workspace package is consumed.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
