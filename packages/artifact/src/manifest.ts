import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ArtifactError } from "./errors.js";

/** The manifest's file name at the root of every artifact. */
export const manifestFileName = "ctrl.json";

const command = z.union([
  z.string().trim().min(1, "must not be empty"),
  z
    .array(z.string())
    .min(1, "must not be empty")
    .refine((a) => (a[0] ?? "").trim().length > 0, "the program (first element) must not be empty"),
]);

/** The zod schema of `ctrl.json`; unknown keys are rejected so typos surface. */
export const artifactManifestSchema = z
  .object({
    /**
     * How to start the app from the artifact's root. A string runs through `/bin/sh -c`; an array
     * is executed directly (program, then arguments). A deployment's `command` overrides it.
     */
    start: command,
    /**
     * The port the app listens on when it ignores `PORT`. The process driver always sets `PORT`
     * (many replicas share one host), so apps must honour it there; other drivers may use this.
     */
    port: z.number().int().min(1).max(65535).optional(),
    /** Path that answers 200 once the app is ready, e.g. `/health`. Default: `/health`. */
    healthPath: z.string().startsWith("/", "must start with /").max(1024).optional(),
    /** Build command the builders run before packing (informational for the agent). */
    build: command.optional(),
    /**
     * Opt-in to halt supervision (docs/halt-contract.md): the agent polls `statusPath` for a
     * `halt_intent` while the app runs and never restarts it once it halted. With `stayAlive` the app
     * keeps serving its status after halting; the agent terminates it after `graceSeconds`.
     */
    halt: z
      .object({
        statusPath: z.string().startsWith("/", "must start with /").max(1024),
        stayAlive: z.boolean().optional(),
        graceSeconds: z.number().int().min(0).max(86_400).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** `ctrl.json`: how to start and health-check an artifact. */
export interface ArtifactManifest {
  start: string | string[];
  port?: number;
  healthPath?: string;
  build?: string | string[];
  halt?: HaltManifest;
}

/** `ctrl.json`'s `halt`: how the agent watches an app that may halt on purpose. */
export interface HaltManifest {
  statusPath: string;
  stayAlive?: boolean;
  /** How long a stay-alive app may keep serving after it halted (default {@link defaultHaltGraceSeconds}). */
  graceSeconds?: number;
}

/** Default grace window of a stay-alive halted app. */
export const defaultHaltGraceSeconds = 300;

/** Default health path when neither the deployment nor the manifest names one. */
export const defaultHealthPath = "/health";

/** Validates a parsed manifest object; throws ArtifactError("invalid_manifest") naming each bad field. */
export function parseManifest(value: unknown, source = manifestFileName): ArtifactManifest {
  const parsed = artifactManifestSchema.safeParse(value);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
    throw new ArtifactError("invalid_manifest", `${source} is invalid: ${lines.join("; ")}`);
  }
  return parsed.data as ArtifactManifest;
}

/** Reads and validates `<dir>/ctrl.json`. */
export async function readManifest(dir: string): Promise<ArtifactManifest> {
  const file = join(dir, manifestFileName);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ArtifactError(
        "invalid_manifest",
        `${manifestFileName} not found in ${dir}: every artifact needs one at its root (see packages/artifact/README.md)`,
      );
    }
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ArtifactError("invalid_manifest", `${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseManifest(value, file);
}
