// The build step of examples/hostile (`npm run build`): runs every escape probe from inside the
// build sandbox and writes what it found into the artifact (build-report.json), so the app can serve it.
import { writeFileSync } from "node:fs";
import { runProbes } from "./probes.js";

const report = await runProbes("build", { writableDir: process.env.TMPDIR ?? "/tmp", appDir: "/nonexistent-artifact" });
writeFileSync("build-report.json", JSON.stringify(report, null, 2));
console.log(`hostile build: escapedAny=${report.escapedAny}`);
