/**
 * Bundles the sentinel into one CommonJS file (`dist/sentinel.cjs`) with every dependency inlined,
 * so the agent runs it from an artifact with nothing but `node`. Usage: `tsx scripts/bundle.ts [outDir]`.
 */
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Writes `sentinel.cjs` and `ctrl.json` into `outDir` and returns the directory. */
export async function bundleSentinel(outDir = join(appDir, "dist")): Promise<string> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(appDir, "src/main.ts")],
    outfile: join(outDir, "sentinel.cjs"),
    bundle: true,
    platform: "node",
    target: "node20",
    // CJS output: mysql2 and pino are CommonJS and `require` node builtins dynamically.
    format: "cjs",
    // Smaller artifact; identifiers stay so stack traces remain readable.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
  });
  await copyFile(join(appDir, "ctrl.json"), join(outDir, "ctrl.json"));
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await bundleSentinel(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(out);
}
