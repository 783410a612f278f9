// The "build": copies the server into dist/ and stamps it, so a missing build step is visible at runtime.
import { copyFile, mkdir, writeFile } from "node:fs/promises";

await mkdir("dist", { recursive: true });
await copyFile("src/server.js", "dist/server.js");
await writeFile("dist/build-info.json", JSON.stringify({ builtBy: "npm run build", node: process.version }) + "\n");
console.log("built dist/server.js");
