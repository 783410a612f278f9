import { spawn } from "node:child_process";
import { join } from "node:path";

/** What `ctrl deploy --json` reported. */
export interface HelloDeploy {
  ok: boolean;
  deploymentId?: string;
  status?: string;
  urls: string[];
  error?: string;
}

/**
 * Deploys `examples/hello` through the real CLI binary (`apps/cli/bin/ctrl.mjs deploy … --json`),
 * as a person would: pack, upload, build (the worker's local builder), run (krane), route
 * (frontline). Progress lines go to `log`; resolves with the URLs that serve it.
 */
export async function deployHello(input: {
  root: string;
  apiUrl: string;
  rootKey: string;
  projectId: string;
  frontlinePort: number;
  log: (line: string) => void;
}): Promise<HelloDeploy> {
  const args = [
    join(input.root, "apps/cli/bin/ctrl.mjs"),
    "deploy",
    join(input.root, "examples/hello"),
    "--project",
    input.projectId,
    "--env",
    "production",
    "--json",
    "--timeout",
    "300",
  ];
  const child = spawn(process.execPath, args, {
    cwd: input.root,
    env: { ...process.env, CTRL_API_URL: input.apiUrl, CTRL_ROOT_KEY: input.rootKey },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    const out = JSON.parse(stdout) as {
      deploymentId?: string;
      status?: string;
      hostnames?: string[];
      errorMessage?: string;
      failedStep?: string;
      error?: string;
    };
    const urls = (out.hostnames ?? []).map((h) => `http://${h}${input.frontlinePort === 80 ? "" : `:${input.frontlinePort}`}/`);
    if (code === 0)
      return {
        ok: true,
        urls,
        ...(out.deploymentId ? { deploymentId: out.deploymentId } : {}),
        ...(out.status ? { status: out.status } : {}),
      };
    const error = out.error ?? `${out.status ?? "failed"}${out.failedStep ? ` at ${out.failedStep}` : ""}: ${out.errorMessage ?? ""}`;
    return { ok: false, urls, error, ...(out.deploymentId ? { deploymentId: out.deploymentId } : {}) };
  } catch {
    for (const line of stderr.trim().split("\n").slice(-20)) input.log(line);
    return { ok: false, urls: [], error: `ctrl deploy exited with ${code} without a JSON result` };
  }
}
