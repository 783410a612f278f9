import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import type { WorkloadKind } from "../../workload.js";

/**
 * Where the process driver keeps things under its data directory: `workloads/<kind>/<name>.json`
 * (desired specs), `instances/<kind>--<name>.{json,exit}` (instance records and exit codes),
 * `logs/<kind>--<name>.log`, `artifacts/<sha256>`, `sandboxes/<kind>--<name>` and `sandbox-bin/`.
 */
export class DataLayout {
  /** Identifies this data directory's instances (the `CTRL_AGENT` mark; see killOrphans). */
  readonly agentMark: string;

  constructor(readonly root: string) {
    this.agentMark = createHash("sha256").update(resolve(root)).digest("hex").slice(0, 16);
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  specFile(kind: WorkloadKind, name: string): string {
    return this.path("workloads", kind, `${name}.json`);
  }

  instanceStateFile(kind: WorkloadKind, instance: string): string {
    return this.path("instances", `${kind}--${instance}.json`);
  }

  exitFile(kind: WorkloadKind, instance: string): string {
    return this.path("instances", `${kind}--${instance}.exit`);
  }

  logFile(kind: WorkloadKind, instance: string): string {
    return this.path("logs", `${kind}--${instance}.log`);
  }

  sandboxDir(kind: WorkloadKind, instance: string): string {
    return this.path("sandboxes", `${kind}--${instance}`);
  }
}
