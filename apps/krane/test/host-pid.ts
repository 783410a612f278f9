import { readdir, readFile } from "node:fs/promises";

/**
 * The host pid of the process serving `port` that calls itself `innerPid`. Sandboxed instances
 * (and sentinels) report their pid in their own pid namespace (2, 3, …), which on the host is some
 * other process: never signal a reported pid directly. The host finds the process whose NSpid
 * chain ends in `innerPid` and whose environment has `PORT=<port>` (unique on the host at a time).
 * Unsandboxed, the two pids are the same.
 */
export async function hostPidOf(port: number, innerPid: number): Promise<number> {
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const nspid = /^NSpid:\s+(.+)$/m
        .exec(await readFile(`/proc/${d}/status`, "utf8"))?.[1]
        ?.trim()
        .split(/\s+/);
      if (Number(nspid?.[nspid.length - 1]) !== innerPid) continue;
      if ((await readFile(`/proc/${d}/environ`, "utf8")).split("\0").includes(`PORT=${port}`)) return Number(d);
    } catch {
      /* raced with an exit */
    }
  }
  throw new Error(`no host process with PORT=${port} is pid ${innerPid} in its namespace`);
}
