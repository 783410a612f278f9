import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcess, type ManagedProcess } from "./process.js";
import { freePort, waitFor } from "./wait.js";

const require = createRequire(import.meta.url);

/** A running s3rver with credentials S3RVER/S3RVER. */
export interface S3Server {
  endpoint: string;
  port: number;
  directory: string;
  accessKeyId: string;
  secretAccessKey: string;
  process: ManagedProcess;
  dispose(): Promise<void>;
}

/** Starts s3rver (from npm) on a free port with its data in a temp dir (or `directory`). */
export async function startS3(options: { directory?: string; port?: number; onLine?: (line: string) => void } = {}): Promise<S3Server> {
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), "ctrl-s3-")));
  const port = options.port ?? (await freePort());
  const bin = join(require.resolve("s3rver/package.json"), "..", "bin", "s3rver.js");
  const proc = startProcess(
    "s3",
    process.execPath,
    [bin, "-d", directory, "-a", "127.0.0.1", "-p", String(port), "--no-vhost-buckets", "--silent"],
    {
      onLine: options.onLine,
    },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    // s3rver answers GET / (ListBuckets) with 403 without credentials: any HTTP answer means it listens.
    await waitFor("s3rver to listen", async () => (await fetch(endpoint)).status > 0, { timeoutMs: 20_000, intervalMs: 50 });
  } catch (err) {
    await proc.kill();
    throw new Error(`s3rver did not start: ${(err as Error).message}\n${proc.tail()}`);
  }
  return {
    endpoint,
    port,
    directory,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    process: proc,
    async dispose() {
      await proc.stop(3_000);
      if (!options.directory) await rm(directory, { recursive: true, force: true });
    },
  };
}
