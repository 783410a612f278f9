import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import type { DesiredWorkload, WorkloadKind } from "../../workload.js";
import type { DataLayout } from "./layout.js";

/** Decrypts the variables of a spec read back from disk (see ProcessDriverOptions.decryptEnv). */
export type DecryptEnv = (spec: DesiredWorkload) => { env: Record<string, string> } | { error: string };

/**
 * The desired specs on disk (`workloads/<kind>/<name>.json`): what a restarted agent converges to.
 * Decrypted variables never reach the disk: a spec that came encrypted is stored encrypted and
 * decrypted again when read back.
 */
export class SpecStore {
  constructor(
    private readonly layout: DataLayout,
    private readonly decryptEnv?: DecryptEnv,
  ) {}

  /** Every stored spec (by the kind of the folder it is in); removes half-written files. */
  async loadAll(): Promise<{ kind: WorkloadKind; spec: DesiredWorkload }[]> {
    const out: { kind: WorkloadKind; spec: DesiredWorkload }[] = [];
    for (const kind of ["deployment", "sentinel"] as const) {
      for (const file of await readdir(this.layout.path("workloads", kind))) {
        if (file.endsWith(".tmp")) await rm(this.layout.path("workloads", kind, file), { force: true });
        if (!file.endsWith(".json")) continue;
        const spec = this.reviveEnv(JSON.parse(await readFile(this.layout.path("workloads", kind, file), "utf8")) as DesiredWorkload);
        out.push({ kind, spec });
      }
    }
    return out;
  }

  async save(workload: DesiredWorkload): Promise<void> {
    await writeAtomic(
      this.layout.specFile(workload.kind, workload.name),
      JSON.stringify(workload.encryptedEnv ? { ...workload, env: {} } : workload),
    );
  }

  async remove(kind: WorkloadKind, name: string): Promise<void> {
    await rm(this.layout.specFile(kind, name), { force: true });
  }

  /** A spec read back from disk gets its variables decrypted from the stored blob. */
  private reviveEnv(spec: DesiredWorkload): DesiredWorkload {
    if (!spec.encryptedEnv) return spec;
    const out = this.decryptEnv?.(spec) ?? {
      error: "env_decrypt_failed: the agent has no decryption key for the stored environment variables (set KRANE_VAULT_MASTER_KEYS)",
    };
    if ("error" in out) return { ...spec, env: {}, envError: out.error };
    return { ...spec, env: out.env };
  }
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  // Owner-only: a spec names what runs where (its variables are stored encrypted).
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}
